"""The check actor: one per BIM model check. It journals the worker's reports (started, progress at
least every few seconds, each stage's end, the verdict) so that the supplier's page and the bid
session's dashboard see the check move live, and a page opened later sees where it is.

Reports come through the actor inbox (at least once, possibly out of order): a report older than the
last one applied (its `tick`) is dropped, and nothing moves a finished check back. Must not: run the
check or read the report (the worker and `server.bim.checks` do).
"""

from __future__ import annotations

from typing import Any

from actors.check.messages import (
    MESSAGES,
    GetCheck,
    ReportErrored,
    ReportFinished,
    ReportProgress,
    ReportStage,
    ReportStarted,
)
from actors.check.state import ERRORED, FINISHED, PROGRESS, STAGE_ENDED, STARTED, CheckState, apply
from actors.events import Address, Event
from actors.messages import Message
from actors.runtime import Actor


def check_address(check_id: Any) -> Address:
    return Address(kind="check", id=check_id)


class CheckActor(Actor):
    kind = "check"
    messages = MESSAGES

    state: CheckState

    def reset(self) -> None:
        self.state = CheckState()

    def apply(self, event: Event) -> None:
        self.state = apply(self.state, event)

    def dump(self) -> dict[str, Any]:
        return self.state.model_dump(mode="json")

    def load(self, data: dict[str, Any]) -> None:
        self.state = CheckState.model_validate(data)

    def view(self) -> dict[str, Any]:
        return self.state.model_dump(mode="json")

    async def receive(self, message: Message) -> Any:
        match message:
            case GetCheck():
                return self.state
            case ReportStarted():
                if not self.state.ended:
                    data = {
                        "check_id": str(message.check_id),
                        "bid_id": str(message.bid_id),
                        "attempt": message.attempt,
                    }
                    await self.append(STARTED, data)
            case ReportProgress():
                if self._fresh(message.tick):
                    await self.append(PROGRESS, message.model_dump(mode="json", exclude={"type"}))
            case ReportStage():
                if self._fresh(message.tick):
                    await self.append(STAGE_ENDED, message.model_dump(mode="json", exclude={"type"}))
            case ReportFinished():
                if not self.state.ended:
                    await self.append(FINISHED, message.model_dump(mode="json", exclude={"type"}))
            case ReportErrored():
                if not self.state.ended:
                    await self.append(ERRORED, {"message": message.message})
        return None

    def _fresh(self, tick: int) -> bool:
        return not self.state.ended and tick > self.state.tick
