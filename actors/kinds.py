"""The actor kinds a node runs, and the messages workers may send them through the inbox stream."""

from __future__ import annotations

from actors.bid.actor import BidSessionActor
from actors.bid.messages import INBOX_MESSAGES as BID_INBOX
from actors.check.actor import CheckActor
from actors.check.messages import INBOX_MESSAGES as CHECK_INBOX
from actors.deliverable.actor import DeliverableActor
from actors.deliverable.messages import INBOX_MESSAGES as DELIVERABLE_INBOX
from actors.document.actor import DocumentActor
from actors.messages import Message
from actors.project.actor import ProjectActor
from actors.project.messages import INBOX_MESSAGES as PROJECT_INBOX
from actors.runtime import Actor

ACTOR_KINDS: tuple[type[Actor], ...] = (
    ProjectActor,
    BidSessionActor,
    DocumentActor,
    CheckActor,
    DeliverableActor,
)
INBOX_MESSAGES: dict[str, type[Message]] = {
    **PROJECT_INBOX,
    **BID_INBOX,
    **CHECK_INBOX,
    **DELIVERABLE_INBOX,
}
