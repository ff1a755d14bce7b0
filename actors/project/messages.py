"""Messages the project actor accepts. Imperative names; `type` is the wire name (inbox stream,
forwarding between nodes, durable timers)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from actors.messages import Message, Reply
from actors.project.messages_cases import CASE_MESSAGES
from actors.project.state import ProjectState, TaskStatus


class CreateProject(Message):
    type: Literal["project.create"] = "project.create"
    reply: ClassVar[Reply] = ProjectState

    code: str
    name: str
    owner_org_id: UUID
    created_by: UUID
    project_type: str = "其他"
    tags: tuple[str, ...] = ()
    actor_login: str | None = None  # for the audit entry
    ip: str | None = None


class RecordArchiveOpened(Message):
    """Sent by the `open_project_archive` job once the archive row is committed."""

    type: Literal["project.record_archive_opened"] = "project.record_archive_opened"
    reply: ClassVar[Reply] = ProjectState

    archive_no: str
    job_id: str | None = None


class RequestArchive(Message):
    """A durable timer of the actor's own: enqueue the archive job again after Redis failed."""

    type: Literal["project.request_archive"] = "project.request_archive"

    attempt: int = 0


class GetProject(Message):
    type: Literal["project.get"] = "project.get"
    reply: ClassVar[Reply] = ProjectState


class TaskSpec(BaseModel):
    """One department's part of the parallel approval."""

    model_config = ConfigDict(frozen=True)

    dept_org_id: UUID
    dept_name: str = Field(min_length=1, max_length=100)
    item: str = Field(min_length=1, max_length=100)  # the permit or opinion, e.g. 施工许可
    limit_workdays: int = Field(ge=1, le=120)


class StartApproval(Message):
    """Dispatch the project to the departments at once (并联审批), each with its working-day limit
    counted from `accepted_on`."""

    type: Literal["project.start_approval"] = "project.start_approval"
    reply: ClassVar[Reply] = ProjectState

    tasks: list[TaskSpec] = Field(min_length=1, max_length=12)
    accepted_on: date
    by: UUID
    actor_login: str | None = None
    ip: str | None = None


class UpdateTask(Message):
    type: Literal["project.update_task"] = "project.update_task"
    reply: ClassVar[Reply] = ProjectState

    dept_org_id: UUID
    status: TaskStatus
    note: str = Field(default="", max_length=500)
    by: UUID
    actor_login: str | None = None
    ip: str | None = None


class CheckDeadline(Message):
    """A durable timer: the moment a task's deadline turns due-soon (yellow) or overdue (red)."""

    type: Literal["project.check_deadline"] = "project.check_deadline"

    dept_org_id: UUID


MESSAGES: tuple[type[Message], ...] = (
    CreateProject, RecordArchiveOpened, RequestArchive, GetProject, StartApproval, UpdateTask, CheckDeadline,
    *CASE_MESSAGES,
)  # fmt: skip
INBOX_MESSAGES: dict[str, type[Message]] = {"project.record_archive_opened": RecordArchiveOpened}
