"""The bid session state as a pure fold of events: visits, time online, annotations and reminders,
and a snapshot that round-trips."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from actors.bid.state import BidState, apply
from actors.events import Event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EXPERT, OTHER, ORGANISER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


class Journal:
    """Events in order, with the presence set the runtime would hold after each."""

    def __init__(self) -> None:
        self.state = BidState()
        self.seq = 0
        self.present: dict[str, uuid.UUID] = {}

    def add(self, type_: str, data: dict[str, Any], seconds: float) -> None:
        if type_ == "presence.joined":
            self.present[data["conn"]] = uuid.UUID(data["user_id"])
        elif type_ == "presence.left":
            self.present.pop(data["conn"], None)
        self.seq += 1
        event = Event(actor="bid:x", seq=self.seq, type=type_, at=T0 + timedelta(seconds=seconds), data=data)
        self.state = apply(self.state, event, frozenset(self.present.values()))

    def join(self, conn: str, user: uuid.UUID, seconds: float) -> None:
        self.add(
            "presence.joined", {"conn": conn, "node": "n1", "user_id": str(user), "name": "某*"}, seconds
        )

    def leave(self, conn: str, seconds: float) -> None:
        self.add("presence.left", {"conn": conn}, seconds)

    def expert(self, user: uuid.UUID, now_s: float) -> dict[str, Any]:
        view = self.state.public(T0 + timedelta(seconds=now_s), self.present)
        return next(e.model_dump() for e in view.experts if e.user_id == user)


def created() -> Journal:
    journal = Journal()
    experts = [{"user_id": str(u), "name": "周*", "login": f"e{i}"} for i, u in enumerate((EXPERT, OTHER))]
    journal.add("bid.created", {
        "id": str(uuid.uuid4()), "name": "评标", "org_id": str(uuid.uuid4()), "org_name": "住建委",
        "created_by": str(ORGANISER), "experts": experts,
    }, 0)  # fmt: skip
    return journal


def test_time_online_counts_each_visit_once_however_many_tabs_and_adds_the_current_visit():
    journal = created()
    journal.join("a", EXPERT, 10)
    journal.join("b", EXPERT, 15)  # a second tab: same visit
    journal.join("w", ORGANISER, 16)  # the organiser watching: not an expert
    journal.leave("a", 20)
    assert journal.expert(EXPERT, 25)["online"] is True
    journal.leave("b", 40)  # the visit lasted 10 → 40
    later = journal.expert(EXPERT, 100)
    assert (later["online"], later["status_label"], later["online_since"]) == (False, "离线", None)
    assert later["seconds_online"] == 30
    journal.join("c", EXPERT, 200)
    assert journal.expert(EXPERT, 205)["seconds_online"] == 35  # 30 closed + 5 now − since
    assert journal.expert(OTHER, 205)["seconds_online"] == 0


def test_open_annotations_follow_each_annotations_latest_state():
    journal = created()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for annotation, is_open in ((first, True), (second, True), (first, False), (str(uuid.uuid4()), False)):
        journal.add("bid.annotation_recorded", {"expert_id": str(EXPERT), "annotation_id": annotation,
                                                "open": is_open, "open_annotations": 0}, 1)  # fmt: skip
    assert journal.expert(EXPERT, 2)["open_annotations"] == 1


def test_a_fired_reminder_leaves_the_pending_list_and_its_reminders_are_listed_newest_first():
    journal = created()
    rid = str(uuid.uuid4())
    journal.add(
        "bid.reminder_scheduled", {"reminder_id": rid, "at": (T0 + timedelta(seconds=5)).isoformat()}, 1
    )
    assert [str(p.reminder_id) for p in journal.state.public(T0, {}).pending_reminders] == [rid]
    for expert in (EXPERT, OTHER):
        journal.add("bid.reminder_sent", {"reminder_id": rid, "expert_id": str(expert), "open_annotations": 2,
                                          "reason": "尚有 2 条批注未处理"}, 5)  # fmt: skip
    journal.add("bid.reminder_fired", {"reminder_id": rid, "reminded": 2}, 5)
    view = journal.state.public(T0 + timedelta(seconds=6), {})
    assert view.pending_reminders == []
    assert [r.expert_id for r in view.reminders] == [OTHER, EXPERT]


def test_a_snapshot_of_the_state_loads_back_equal():
    journal = created()
    journal.join("a", EXPERT, 3)
    dumped = journal.state.model_dump(mode="json")
    assert BidState.model_validate(dumped) == journal.state
