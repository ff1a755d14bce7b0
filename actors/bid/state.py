"""The bid session actor's state and the one pure function that applies an event to it; shared by live
updates and journal replay. Per expert: time online (folded from the runtime's presence events),
unfinished annotations, and the reminders sent.

Time online is accumulated from event times: an expert's visit starts at the `presence.joined` that
made them present and ends at the `presence.left` (or node-down) that made them absent; while present,
the view adds now − start. Must not: do IO or read the clock (the caller passes `now`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from actors.events import Event

CREATED = "bid.created"
ANNOTATION_RECORDED = "bid.annotation_recorded"
REMINDER_SCHEDULED = "bid.reminder_scheduled"
REMINDER_SENT = "bid.reminder_sent"  # one per expert reminded
REMINDER_FIRED = "bid.reminder_fired"  # one per timer firing, after its `bid.reminder_sent` events
CHECK_UPDATED = "bid.check_updated"  # a supplier's model check moved (the live bid dashboard)
MAX_CHECKS = 500  # model checks shown on the dashboard (newest); the database keeps them all

MAX_REMINDERS = 200  # reminders kept in the state (and shown), newest; the journal keeps them all
STATUS_LABELS = {True: "在线", False: "离线"}


class Expert(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: UUID
    name: str  # masked (张*): personal names stay sealed at rest, and the journal is at rest
    login: str
    online_since: datetime | None = None  # start of the current visit
    seconds_closed: float = 0.0  # time online in finished visits
    open_annotations: int = 0


class Annotation(BaseModel):
    model_config = ConfigDict(frozen=True)

    expert_id: UUID
    open: bool


class Reminder(BaseModel):
    model_config = ConfigDict(frozen=True)

    reminder_id: UUID
    expert_id: UUID
    at: datetime
    open_annotations: int
    reason: str


class ExpertView(BaseModel):
    user_id: UUID
    name: str
    login: str
    online: bool
    status_label: str
    online_since: datetime | None
    seconds_online: int
    open_annotations: int


class ReminderView(BaseModel):
    reminder_id: UUID
    expert_id: UUID
    expert_name: str
    at: datetime
    open_annotations: int
    reason: str


class CheckSummary(BaseModel):
    """One supplier's model check as the dashboard shows it (reports stay in `bim_check`)."""

    model_config = ConfigDict(frozen=True)

    check_id: UUID
    org_name: str
    file_name: str
    status: str  # queued, running, passed, failed, error
    stage: str | None = None
    percent: float = 0.0
    errors: int = 0
    warnings: int = 0
    tick: int = 0  # the worker's report order within an attempt (older reports are dropped)
    attempt: int = 0


class PendingReminder(BaseModel):
    reminder_id: UUID
    at: datetime


class BidView(BaseModel):
    """What subscribers and the API are shown. `connections`: websocket id → expert, so a client can
    fold `presence.left` (which names only the connection); `now`: the server's clock at the view."""

    id: UUID | None
    name: str | None
    org_id: UUID | None
    org_name: str | None
    created_at: datetime | None
    experts: list[ExpertView]
    reminders: list[ReminderView]  # newest first
    pending_reminders: list[PendingReminder]
    connections: dict[str, UUID]
    checks: list[CheckSummary] = []  # newest first
    now: datetime
    seq: int


class BidState(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID | None = None
    name: str | None = None
    org_id: UUID | None = None
    org_name: str | None = None
    created_by: UUID | None = None
    created_at: datetime | None = None
    experts: dict[str, Expert] = {}
    annotations: dict[str, Annotation] = {}
    pending_reminders: dict[str, datetime] = {}  # reminder id → fire time, until it fired
    reminders: list[Reminder] = []  # oldest first
    checks: dict[str, CheckSummary] = {}  # in submission order
    seq: int = 0

    @property
    def exists(self) -> bool:
        return self.id is not None

    def expert(self, user_id: UUID) -> Expert | None:
        return self.experts.get(str(user_id))

    def public(self, now: datetime, connections: Mapping[str, UUID]) -> BidView:
        experts = [_expert_view(e, now) for e in self.experts.values()]
        names = {key: e.name for key, e in self.experts.items()}
        reminders = [
            ReminderView(
                reminder_id=r.reminder_id, expert_id=r.expert_id, expert_name=names.get(str(r.expert_id), ""),
                at=r.at, open_annotations=r.open_annotations, reason=r.reason,
            )
            for r in reversed(self.reminders)
        ]  # fmt: skip
        pending = [PendingReminder(reminder_id=UUID(k), at=at) for k, at in sorted(self.pending_reminders.items(),
                                                                                   key=lambda kv: kv[1])]  # fmt: skip
        return BidView(
            id=self.id, name=self.name, org_id=self.org_id, org_name=self.org_name, created_at=self.created_at,
            experts=experts, reminders=reminders, pending_reminders=pending,
            connections={c: u for c, u in connections.items() if str(u) in self.experts},
            checks=list(reversed(self.checks.values())), now=now, seq=self.seq,
        )  # fmt: skip


def _expert_view(expert: Expert, now: datetime) -> ExpertView:
    seconds = expert.seconds_closed
    if expert.online_since is not None:
        seconds += max(0.0, (now - expert.online_since).total_seconds())
    online = expert.online_since is not None
    return ExpertView(
        user_id=expert.user_id, name=expert.name, login=expert.login, online=online,
        status_label=STATUS_LABELS[online], online_since=expert.online_since, seconds_online=int(seconds),
        open_annotations=expert.open_annotations,
    )  # fmt: skip


def reminder_reason(open_annotations: int) -> str:
    return f"尚有 {open_annotations} 条批注未处理，请尽快完成评审"


def _visits(experts: dict[str, Expert], present: frozenset[UUID], at: datetime) -> dict[str, Expert]:
    """Start the visit of each expert who became present and end it for each who became absent."""
    changed = dict(experts)
    for key, expert in experts.items():
        here = expert.user_id in present
        if here and expert.online_since is None:
            changed[key] = expert.model_copy(update={"online_since": at})
        elif not here and expert.online_since is not None:
            spent = max(0.0, (at - expert.online_since).total_seconds())
            changed[key] = expert.model_copy(
                update={"online_since": None, "seconds_closed": expert.seconds_closed + spent}
            )
    return changed


def apply(state: BidState, event: Event, present: frozenset[UUID]) -> BidState:
    """`present`: the users with a connection at the actor after this event (the runtime folds its
    presence events before the actor's own `apply`)."""
    data = event.data
    update: dict[str, Any] = {"seq": event.seq}
    experts = state.experts
    if event.type == CREATED:
        update |= {
            "id": UUID(data["id"]),
            "name": data["name"],
            "org_id": UUID(data["org_id"]),
            "org_name": data["org_name"],
            "created_by": UUID(data["created_by"]),
            "created_at": event.at,
        }
        experts = {e["user_id"]: Expert.model_validate(e) for e in data["experts"]}
    elif event.type == ANNOTATION_RECORDED:
        key, expert_key = data["annotation_id"], data["expert_id"]
        before = state.annotations.get(key)
        was_open = before is not None and before.open
        delta = int(data["open"]) - int(was_open)
        annotation = Annotation(expert_id=UUID(expert_key), open=data["open"])
        update["annotations"] = {**state.annotations, key: annotation}
        expert = experts[expert_key]
        experts = {**experts, expert_key: expert.model_copy(
            update={"open_annotations": expert.open_annotations + delta}
        )}  # fmt: skip
    elif event.type == REMINDER_SCHEDULED:
        update["pending_reminders"] = {
            **state.pending_reminders,
            data["reminder_id"]: datetime.fromisoformat(data["at"]),
        }
    elif event.type == REMINDER_SENT:
        reminder = Reminder(
            reminder_id=UUID(data["reminder_id"]), expert_id=UUID(data["expert_id"]), at=event.at,
            open_annotations=data["open_annotations"], reason=data["reason"],
        )  # fmt: skip
        update["reminders"] = [*state.reminders, reminder][-MAX_REMINDERS:]
    elif event.type == CHECK_UPDATED:
        summary = CheckSummary.model_validate(data)
        checks = {**state.checks, str(summary.check_id): summary}
        update["checks"] = dict(list(checks.items())[-MAX_CHECKS:])
    elif event.type == REMINDER_FIRED:
        update["pending_reminders"] = {
            k: v for k, v in state.pending_reminders.items() if k != data["reminder_id"]
        }
    update["experts"] = _visits(experts, present, event.at)
    return state.model_copy(update=update)
