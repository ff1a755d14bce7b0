"""Messages the check actor accepts: the worker's reports (through the actor inbox: at least once,
possibly out of order across nodes — each carries the worker's `tick`) and a read."""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from actors.check.state import CheckState, StageSummary
from actors.messages import Message, Reply


class ReportStarted(Message):
    type: Literal["check.report_started"] = "check.report_started"

    check_id: UUID
    bid_id: UUID
    attempt: int = Field(ge=1)


class ReportProgress(Message):
    type: Literal["check.report_progress"] = "check.report_progress"

    tick: int = Field(ge=1)
    stage: str = Field(max_length=32)
    percent: float = Field(ge=0, le=100)
    counts: dict[str, Any] = Field(default_factory=dict)


class ReportStage(Message):
    type: Literal["check.report_stage"] = "check.report_stage"

    tick: int = Field(ge=1)
    summary: StageSummary


class ReportFinished(Message):
    type: Literal["check.report_finished"] = "check.report_finished"

    tick: int = Field(ge=1)
    verdict: Literal["passed", "failed"]
    totals: dict[str, int]
    report_sm3: str = Field(pattern=r"^[0-9a-f]{64}$")


class ReportErrored(Message):
    type: Literal["check.report_errored"] = "check.report_errored"

    message: str = Field(max_length=500)


class GetCheck(Message):
    type: Literal["check.get"] = "check.get"
    reply: ClassVar[Reply] = CheckState


MESSAGES: tuple[type[Message], ...] = (
    ReportStarted, ReportProgress, ReportStage, ReportFinished, ReportErrored, GetCheck,
)  # fmt: skip
INBOX_MESSAGES: dict[str, type[Message]] = {
    m.model_fields["type"].default: m for m in MESSAGES if m is not GetCheck
}
