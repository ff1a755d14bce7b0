"""Messages of the project actor about 开工一件事 cases: submitting one signed application (split into
item cases), acting on a case, claiming it, and the durable timer of a case's deadline colour."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from actors.messages import Message, Reply
from actors.project.state import ProjectState


class CaseSpec(BaseModel):
    """One applicable item of an application: its department and limits, from the catalogue version."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    item_code: str = Field(min_length=1, max_length=40)
    item_name: str = Field(min_length=1, max_length=100)
    dept_org_id: UUID
    dept_name: str = Field(min_length=1, max_length=100)
    predecessors: tuple[str, ...] = ()
    statutory_wd: int = Field(ge=1, le=120)
    committed_wd: int = Field(ge=1, le=120)


class SubmitApplication(Message):
    """Record a signed application (its row is written with the event) and open one case per item."""

    type: Literal["kaigong.submit"] = "kaigong.submit"
    reply: ClassVar[Reply] = ProjectState

    application_id: UUID
    bundle: str
    catalogue_version_id: UUID
    cases: list[CaseSpec] = Field(min_length=1, max_length=20)
    signed_sealed: bytes
    signed_sm3: str
    signature: bytes
    certificate_id: UUID
    idempotency_key: str = Field(min_length=8, max_length=100)
    by: UUID
    org_id: UUID
    actor_login: str | None = None
    ip: str | None = None


class ActOnCase(Message):
    """An applicant's or a department's action on one case (server.approval.workflow)."""

    type: Literal["kaigong.act"] = "kaigong.act"
    reply: ClassVar[Reply] = ProjectState

    case_id: UUID
    action: str = Field(max_length=40)
    side: Literal["applicant", "department"]
    dept_org_id: UUID | None = None  # the acting department (side "department")
    reason: str = Field(default="", max_length=1000)
    by: UUID
    actor_login: str | None = None
    ip: str | None = None


class ClaimCase(Message):
    type: Literal["kaigong.claim"] = "kaigong.claim"
    reply: ClassVar[Reply] = ProjectState

    case_id: UUID
    dept_org_id: UUID
    by: UUID
    actor_login: str | None = None


class ExtendCase(Message):
    """An approver (审批负责人) extends a case's limit by `days` working days, with a reason."""

    type: Literal["kaigong.extend"] = "kaigong.extend"
    reply: ClassVar[Reply] = ProjectState

    case_id: UUID
    dept_org_id: UUID
    days: int = Field(ge=1, le=30)
    reason: str = Field(min_length=2, max_length=500)
    by: UUID
    actor_login: str | None = None
    ip: str | None = None


class CheckCaseDeadline(Message):
    """A durable timer: the day a case's deadline colour may change (yellow, red)."""

    type: Literal["kaigong.check_deadline"] = "kaigong.check_deadline"

    case_id: UUID


CASE_MESSAGES: tuple[type[Message], ...] = (
    SubmitApplication,
    ActOnCase,
    ClaimCase,
    ExtendCase,
    CheckCaseDeadline,
)
