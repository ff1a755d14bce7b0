"""Messages the project actor accepts. Imperative names; `type` is the wire name on the inbox stream."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class CreateProject(BaseModel):
    model_config = ConfigDict(frozen=True)
    type: Literal["project.create"] = "project.create"

    code: str
    name: str
    owner_org_id: UUID
    created_by: UUID
    actor_login: str | None = None  # for the audit entry
    ip: str | None = None


class RecordArchiveOpened(BaseModel):
    """Sent by the `open_project_archive` job once the archive row is committed."""

    model_config = ConfigDict(frozen=True)
    type: Literal["project.record_archive_opened"] = "project.record_archive_opened"

    archive_no: str
    job_id: str | None = None


class RequestArchive(BaseModel):
    """Sent by the actor to itself to retry enqueueing the archive job after Redis failed."""

    model_config = ConfigDict(frozen=True)
    type: Literal["project.request_archive"] = "project.request_archive"

    attempt: int = 0


class GetProject(BaseModel):
    model_config = ConfigDict(frozen=True)
    type: Literal["project.get"] = "project.get"


INBOX_MESSAGES: dict[str, type[BaseModel]] = {"project.record_archive_opened": RecordArchiveOpened}
