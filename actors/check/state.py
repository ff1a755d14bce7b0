"""The live state of one BIM model check (模型检查): where the pipeline is (stage, percent, counts),
how each finished stage ended, and the verdict; and the one pure function that applies an event.
Reports stay in the database (`bim_check.report`); this is what the supplier's and the bid session's
pages watch. Must not: do IO or read the clock.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from actors.events import Event

STARTED = "check.started"
PROGRESS = "check.progress"
STAGE_ENDED = "check.stage_ended"
FINISHED = "check.finished"
ERRORED = "check.errored"  # the check could not run (not the model's fault): retried by the worker


class StageSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str
    status: str
    errors: int = 0
    warnings: int = 0


class CheckState(BaseModel):
    check_id: UUID | None = None
    bid_id: UUID | None = None
    status: str = "queued"  # queued → running → passed | failed | error
    stage: str | None = None
    percent: float = 0.0
    counts: dict[str, Any] = Field(default_factory=dict)
    attempt: int = 0  # the worker's attempt (a retried job starts again)
    tick: int = 0  # the worker's sequence of its reports within an attempt: older ones are ignored
    stages: list[StageSummary] = Field(default_factory=list)
    verdict: str | None = None
    totals: dict[str, int] = Field(default_factory=dict)
    report_sm3: str | None = None
    message: str = ""

    @property
    def ended(self) -> bool:
        return self.status in ("passed", "failed")


def apply(state: CheckState, event: Event) -> CheckState:
    data = event.data
    match event.type:
        case "check.started":
            return state.model_copy(update={
                "check_id": UUID(data["check_id"]), "bid_id": UUID(data["bid_id"]), "status": "running",
                "attempt": data["attempt"], "tick": 0, "stage": None, "percent": 0.0, "stages": [], "message": "",
            })  # fmt: skip
        case "check.progress":
            return state.model_copy(update={
                "stage": data["stage"], "percent": data["percent"], "counts": data.get("counts", {}),
                "tick": data["tick"],
            })  # fmt: skip
        case "check.stage_ended":
            summary = StageSummary.model_validate(data["summary"])
            kept = [s for s in state.stages if s.stage != summary.stage]
            return state.model_copy(update={"stages": [*kept, summary], "tick": data["tick"]})
        case "check.finished":
            return state.model_copy(update={
                "status": data["verdict"], "verdict": data["verdict"], "totals": data["totals"],
                "report_sm3": data["report_sm3"], "stage": None, "percent": 100.0, "tick": data["tick"],
            })  # fmt: skip
        case "check.errored":
            return state.model_copy(update={"status": "error", "message": data["message"]})
    return state
