"""The deliverable actor: one per issued document (出具文件). It journals the worker's reports (step and
percent, rendered or failed) and the issuing service's records (issued, revoked), so the requesting
user's page sees generation move live and a page opened later sees where it is.

Reports come through the actor inbox (at least once, possibly out of order): a report older than the
last one applied (its `tick`) is dropped, and nothing moves an ended generation back to rendering.
Must not: render, sign or read the document record (the worker and `server.deliverables` do).
"""

from __future__ import annotations

import uuid
from typing import Any

from actors.deliverable.messages import (
    MESSAGES,
    GetDeliverable,
    RecordIssued,
    RecordRevoked,
    ReportFailed,
    ReportProgress,
    ReportRendered,
)
from actors.deliverable.state import (
    ENDED,
    FAILED,
    ISSUED,
    PROGRESS,
    RENDERED,
    REVOKED,
    DeliverableState,
    apply,
)
from actors.events import Address, Event
from actors.messages import Message
from actors.runtime import Actor

_NAMESPACE = uuid.UUID("5b0f8a52-6c1e-4d0b-9f4e-2f1d3c7a9e61")


def deliverable_address(deliverable_id: str) -> Address:
    """Actor ids are UUIDs; a deliverable's public id is text (TB…), mapped by a name-based UUID."""
    return Address(kind="deliverable", id=uuid.uuid5(_NAMESPACE, deliverable_id))


class DeliverableActor(Actor):
    kind = "deliverable"
    messages = MESSAGES

    state: DeliverableState

    def reset(self) -> None:
        self.state = DeliverableState()

    def apply(self, event: Event) -> None:
        self.state = apply(self.state, event)

    def dump(self) -> dict[str, Any]:
        return self.state.model_dump(mode="json")

    def load(self, data: dict[str, Any]) -> None:
        self.state = DeliverableState.model_validate(data)

    def view(self) -> dict[str, Any]:
        return self.state.model_dump(mode="json")

    async def receive(self, message: Message) -> Any:
        rendering = self.state.status not in ENDED
        match message:
            case GetDeliverable():
                return self.state
            case ReportProgress():
                if rendering and message.tick > self.state.tick:
                    await self.append(PROGRESS, message.model_dump(mode="json", exclude={"type"}))
            case ReportRendered():
                if rendering:
                    await self.append(RENDERED, message.model_dump(mode="json", exclude={"type"}))
            case ReportFailed():
                if rendering:
                    await self.append(FAILED, message.model_dump(mode="json", exclude={"type"}))
            case RecordIssued():
                if self.state.status == "draft":
                    await self.append(ISSUED, {})
            case RecordRevoked():
                if self.state.status == "issued":
                    await self.append(REVOKED, {"reason": message.reason})
        return None
