"""Messages the bid session actor accepts. Imperative names; `type` is the wire name (forwarding
between nodes, durable timers)."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from actors.bid.state import BidView, CheckSummary
from actors.messages import Message, Reply


class ExpertSpec(BaseModel):
    """One expert of a session, as the route resolved them (name already masked)."""

    model_config = ConfigDict(frozen=True)

    user_id: UUID
    name: str = Field(max_length=100)
    login: str = Field(max_length=64)


class CreateBidSession(Message):
    type: Literal["bid.create"] = "bid.create"
    reply: ClassVar[Reply] = BidView

    name: str = Field(min_length=1, max_length=200)
    org_id: UUID  # the organising unit
    org_name: str
    created_by: UUID
    experts: list[ExpertSpec] = Field(min_length=1, max_length=50)
    actor_login: str | None = None  # for the audit entry
    ip: str | None = None


class GetBidSession(Message):
    type: Literal["bid.get"] = "bid.get"
    reply: ClassVar[Reply] = BidView


class RecordAnnotation(Message):
    """An expert opened (`open`) or finished one of their annotations; the same state again is a no-op."""

    type: Literal["bid.record_annotation"] = "bid.record_annotation"
    reply: ClassVar[Reply] = BidView

    expert_id: UUID
    annotation_id: UUID
    open: bool
    actor_login: str | None = None
    ip: str | None = None


class ScheduleReminder(Message):
    """At `at`, remind every expert who still has unfinished annotations."""

    type: Literal["bid.schedule_reminder"] = "bid.schedule_reminder"
    reply: ClassVar[Reply] = BidView

    at: AwareDatetime
    by: UUID
    actor_login: str | None = None
    ip: str | None = None


class SendReminders(Message):
    """A durable timer: the moment of one scheduled reminder. Delivered at least once."""

    type: Literal["bid.send_reminders"] = "bid.send_reminders"

    reminder_id: UUID


class RecordCheck(Message):
    """A worker's report of a model check of this session (through the actor inbox: at least once,
    possibly out of order, hence `tick` and `attempt`)."""

    type: Literal["bid.record_check"] = "bid.record_check"

    summary: CheckSummary


MESSAGES: tuple[type[Message], ...] = (
    CreateBidSession, GetBidSession, RecordAnnotation, ScheduleReminder, SendReminders, RecordCheck,
)  # fmt: skip
INBOX_MESSAGES: dict[str, type[Message]] = {"bid.record_check": RecordCheck}
