"""The live state of one deliverable (出具文件): the generation's step and percent while the worker
renders it, then draft / failed, issued and revoked; and the one pure function that applies an event.
The document record stays in the database (`deliverable`); this is what the requesting user's page
watches. Must not: do IO or read the clock.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from actors.events import Event

PROGRESS = "deliverable.progress"
RENDERED = "deliverable.rendered"
FAILED = "deliverable.failed"
ISSUED = "deliverable.issued"
REVOKED = "deliverable.revoked"
ENDED = ("draft", "failed", "issued", "revoked")


class DeliverableState(BaseModel):
    status: str = "queued"  # queued → rendering → draft | failed; draft → issued → revoked
    step: str | None = None  # validate · render · preview · store
    percent: float = 0.0
    tick: int = 0
    pages: int | None = None
    sheet_numbers: list[str] = Field(default_factory=list)
    problems: list[dict[str, Any]] = Field(default_factory=list)
    message: str = ""


def apply(state: DeliverableState, event: Event) -> DeliverableState:
    data = event.data
    match event.type:
        case "deliverable.progress":
            return state.model_copy(update={
                "status": "rendering", "step": data["step"], "percent": data["percent"], "tick": data["tick"],
            })  # fmt: skip
        case "deliverable.rendered":
            return state.model_copy(update={
                "status": "draft", "step": None, "percent": 100.0, "pages": data["pages"],
                "sheet_numbers": data["sheet_numbers"], "tick": data["tick"],
            })  # fmt: skip
        case "deliverable.failed":
            return state.model_copy(update={
                "status": "failed", "step": None, "problems": data["problems"], "message": data["message"],
            })  # fmt: skip
        case "deliverable.issued":
            return state.model_copy(update={"status": "issued"})
        case "deliverable.revoked":
            return state.model_copy(update={"status": "revoked", "message": data.get("reason", "")})
    return state
