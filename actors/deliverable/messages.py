"""Messages the deliverable actor accepts: the worker's reports (through the actor inbox: at least
once, possibly out of order — each carries the worker's `tick`), the issuing service's records, a read."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from actors.deliverable.state import DeliverableState
from actors.messages import Message, Reply


class ReportProgress(Message):
    type: Literal["deliverable.report_progress"] = "deliverable.report_progress"

    tick: int = Field(ge=1)
    step: str = Field(max_length=32)
    percent: float = Field(ge=0, le=100)


class ReportRendered(Message):
    type: Literal["deliverable.report_rendered"] = "deliverable.report_rendered"

    tick: int = Field(ge=1)
    pages: int = Field(ge=1)
    sheet_numbers: list[str] = Field(default_factory=list, max_length=1000)


class ReportFailed(Message):
    type: Literal["deliverable.report_failed"] = "deliverable.report_failed"

    message: str = Field(max_length=500)
    problems: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)


class RecordIssued(Message):
    type: Literal["deliverable.record_issued"] = "deliverable.record_issued"


class RecordRevoked(Message):
    type: Literal["deliverable.record_revoked"] = "deliverable.record_revoked"

    reason: str = Field(max_length=500)


class GetDeliverable(Message):
    type: Literal["deliverable.get"] = "deliverable.get"
    reply: ClassVar[Reply] = DeliverableState


MESSAGES: tuple[type[Message], ...] = (
    ReportProgress, ReportRendered, ReportFailed, RecordIssued, RecordRevoked, GetDeliverable,
)  # fmt: skip
INBOX_MESSAGES: dict[str, type[Message]] = {
    m.model_fields["type"].default: m for m in MESSAGES if m is not GetDeliverable
}
