"""The bid session actor (评标会议): one per session. It records the session and its experts, counts
each expert's unfinished annotations, follows who is online (the runtime journals websocket presence
here: `tracks_presence`) and how long, and sends reminders at times the organiser chose, through
durable timers. Every change is streamed to the session's subscribers.

Durable before visible: each event is committed with its rows, timers and audit entry in one
transaction, then applied, then published. A reminder is an event shown live (no SMS here). Must not:
ask other actors, or do slow work in a handler.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from actors.bid.messages import (
    MESSAGES,
    CreateBidSession,
    GetBidSession,
    RecordAnnotation,
    RecordCheck,
    ScheduleReminder,
    SendReminders,
)
from actors.bid.state import (
    ANNOTATION_RECORDED,
    CHECK_UPDATED,
    CREATED,
    REMINDER_FIRED,
    REMINDER_SCHEDULED,
    REMINDER_SENT,
    BidState,
    BidView,
    CheckSummary,
    apply,
    reminder_reason,
)
from actors.events import Address, Event
from actors.messages import Message
from actors.runtime import Actor, Transaction
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, InvalidInput, NotFound

logger = logging.getLogger(__name__)

REMINDER_HORIZON = timedelta(days=90)  # a reminder further ahead than this is a typo, not a plan
REMINDER_GRACE = timedelta(seconds=60)  # "now" from a client whose request took a while is still fine

INSERT_SESSION = "INSERT INTO bid_session (id, name, org_id, created_by) VALUES ($1, $2, $3, $4)"
INSERT_EXPERTS = """
    INSERT INTO bid_session_expert (session_id, user_id) SELECT $1, unnest($2::uuid[])"""


def bid_address(bid_id: Any) -> Address:
    return Address(kind="bid", id=bid_id)


class BidSessionActor(Actor):
    kind = "bid"
    messages = MESSAGES
    tracks_presence = True

    state: BidState

    def reset(self) -> None:
        self.state = BidState()

    def apply(self, event: Event) -> None:
        present = frozenset(m.user_id for m in self.presence.values())
        self.state = apply(self.state, event, present)

    def dump(self) -> dict[str, Any]:
        return self.state.model_dump(mode="json")

    def load(self, data: dict[str, Any]) -> None:
        self.state = BidState.model_validate(data)

    def view(self) -> dict[str, Any]:
        return self._view().model_dump(mode="json")

    def _view(self) -> BidView:
        connections = {m.conn: m.user_id for m in self.presence.values()}
        return self.state.public(datetime.now(UTC), connections)

    async def receive(self, message: Message) -> Any:
        match message:
            case CreateBidSession():
                return await self._create(message)
            case GetBidSession():
                self._require()
                return self._view()
            case RecordAnnotation():
                return await self._record_annotation(message)
            case ScheduleReminder():
                return await self._schedule_reminder(message)
            case SendReminders(reminder_id=reminder_id):
                await self._send_reminders(reminder_id)
                return None
            case RecordCheck(summary=summary):
                await self._record_check(summary)
                return None
        raise TypeError(f"bid actor cannot handle {type(message).__name__}")

    async def _record_check(self, summary: CheckSummary) -> None:
        """Show a model check's move on the dashboard, unless an older report arrives late or the
        check already ended."""
        if not self.state.exists:
            return
        known = self.state.checks.get(str(summary.check_id))
        if known is not None:
            ended = known.status in ("passed", "failed")
            older = (summary.attempt, summary.tick) <= (known.attempt, known.tick)
            if ended or older:
                return
        await self.append(CHECK_UPDATED, summary.model_dump(mode="json"))

    def _require(self) -> None:
        if not self.state.exists:
            raise NotFound("评标会议不存在")

    async def _audit(self, tx: Transaction, record: AuditRecord) -> None:
        await audit.append(tx.conn, self.deps.keys.key(audit.AUDIT_KEY), record)

    async def _create(self, msg: CreateBidSession) -> BidView:
        if self.state.exists:
            raise Conflict("评标会议已存在")
        data = {
            "id": str(self.address.id),
            "name": msg.name,
            "org_id": str(msg.org_id),
            "org_name": msg.org_name,
            "created_by": str(msg.created_by),
            "experts": [e.model_dump(mode="json") for e in msg.experts],
        }
        async with self.transaction() as tx:
            await tx.conn.execute(INSERT_SESSION, self.address.id, msg.name, msg.org_id, msg.created_by)
            await tx.conn.execute(INSERT_EXPERTS, self.address.id, [e.user_id for e in msg.experts])
            await tx.append(CREATED, data)
            record = AuditRecord(
                action="bid.create", actor_id=msg.created_by, actor_login=msg.actor_login, org_id=msg.org_id,
                ip=msg.ip, target=str(self.address), detail={"experts": [str(e.user_id) for e in msg.experts]},
            )  # fmt: skip
            await self._audit(tx, record)
        logger.info("bid.created", extra={"bid_id": str(self.address.id)})
        return self._view()

    async def _record_annotation(self, msg: RecordAnnotation) -> BidView:
        self._require()
        expert = self.state.expert(msg.expert_id)
        if expert is None:
            raise NotFound("您不是该评标会议的评审专家")
        known = self.state.annotations.get(str(msg.annotation_id))
        if known is not None and known.expert_id != msg.expert_id:
            raise Conflict("该批注属于其他专家")
        if known is not None and known.open == msg.open:
            return self._view()  # a retried request: nothing changes
        was_open = known is not None and known.open
        count = expert.open_annotations + int(msg.open) - int(was_open)
        data = {
            "expert_id": str(msg.expert_id),
            "annotation_id": str(msg.annotation_id),
            "open": msg.open,
            "open_annotations": count,  # the expert's count after this event, for clients that fold events
        }
        async with self.transaction() as tx:
            await tx.append(ANNOTATION_RECORDED, data)
            record = AuditRecord(
                action="bid.annotation_record", actor_id=msg.expert_id, actor_login=msg.actor_login, ip=msg.ip,
                target=str(self.address), detail={"annotation_id": str(msg.annotation_id), "open": msg.open},
            )  # fmt: skip
            await self._audit(tx, record)
        return self._view()

    async def _schedule_reminder(self, msg: ScheduleReminder) -> BidView:
        self._require()
        now = datetime.now(UTC)
        if not now - REMINDER_GRACE <= msg.at <= now + REMINDER_HORIZON:
            raise InvalidInput("提醒时间须为当前时间之后 90 天以内", fields=[
                {"field": "at", "message": "须为当前时间之后 90 天以内", "type": "out_of_range"}
            ])  # fmt: skip
        reminder_id = uuid.uuid4()
        async with self.transaction() as tx:
            await tx.append(REMINDER_SCHEDULED, {"reminder_id": str(reminder_id), "at": msg.at.isoformat()})
            await tx.schedule(f"reminder:{reminder_id}", msg.at, SendReminders(reminder_id=reminder_id))
            record = AuditRecord(
                action="bid.reminder_schedule", actor_id=msg.by, actor_login=msg.actor_login, ip=msg.ip,
                target=str(self.address), detail={"reminder_id": str(reminder_id), "at": msg.at.isoformat()},
            )  # fmt: skip
            await self._audit(tx, record)
        return self._view()

    async def _send_reminders(self, reminder_id: UUID) -> None:
        """A reminder timer fired (maybe twice): remind each expert with unfinished annotations, once
        per firing; `bid.reminder_fired` marks it done in the same transaction."""
        key = str(reminder_id)
        if key not in self.state.pending_reminders:
            return  # delivered again after it was handled, or never scheduled here
        due = [e for e in self.state.experts.values() if e.open_annotations > 0]
        async with self.transaction() as tx:
            for expert in due:
                await tx.append(REMINDER_SENT, {
                    "reminder_id": key, "expert_id": str(expert.user_id),
                    "open_annotations": expert.open_annotations, "reason": reminder_reason(expert.open_annotations),
                })  # fmt: skip
            await tx.append(REMINDER_FIRED, {"reminder_id": key, "reminded": len(due)})
            record = AuditRecord(
                action="bid.reminder_send", target=str(self.address),
                detail={"reminder_id": key, "experts": [str(e.user_id) for e in due]},
            )  # fmt: skip
            await self._audit(tx, record)
        logger.info("bid.reminders_sent", extra={"bid_id": str(self.address.id), "reminded": len(due)})
