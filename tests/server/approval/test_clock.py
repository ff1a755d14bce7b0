"""The clock of one item case (domain research §1.3): due date, yellow and red days, pauses that do not
count, extensions that add working days, and the day a durable timer must wake up for.

Worked examples on the 2026 holidays: 中秋节 9/25-9/27, 国庆节 10/1-10/7, make-up Saturday 10/10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from server.approval.calendar import package_calendar
from server.approval.clock import PAUSE_LABELS, STATE_LABELS, Clock, ClockState, Extension, Pause
from server.workdays import LAST_COVERED_YEAR, CalendarNotCovered

PURE = settings(database=None, max_examples=200, deadline=None)
CAL = package_calendar()
THU_24_SEP = date(2026, 9, 24)
APPROVER = uuid4()


def _day(s: str) -> date:
    return date.fromisoformat(s)


def _scan_next_change(clock: Clock, today: date, until: date) -> date | None:
    now = clock.state(CAL, today)
    day = today + timedelta(days=1)
    while day <= until:
        if clock.state(CAL, day) != now:
            return day
        day += timedelta(days=1)
    return None


def test_accepted_thursday_24_september_2026_with_seven_working_days_is_due_monday_12_october() -> None:
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=7)
    assert clock.due_on(CAL) == date(2026, 10, 12)
    assert clock.used_workdays(CAL, date(2026, 10, 12)) == 7
    assert clock.used_workdays(CAL, date(2026, 10, 10)) == 6  # the make-up Saturday counts


def test_the_deadline_is_the_end_of_the_due_day_in_shanghai() -> None:
    deadline = Clock(accepted_on=THU_24_SEP, limit_workdays=7).deadline_at(CAL)
    assert deadline is not None
    assert deadline.utcoffset() == timedelta(hours=8)
    assert deadline.date() == date(2026, 10, 12)
    assert deadline < datetime(2026, 10, 12, 16, 0, tzinfo=UTC) <= deadline + timedelta(microseconds=1)


def test_a_five_working_day_item_accepted_the_same_day_is_due_9_october_and_yellow_from_29_september() -> (
    None
):
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=5)
    assert clock.due_on(CAL) == date(2026, 10, 9)
    assert clock.warn_on(CAL) == date(2026, 9, 29)  # 3 working days before: ten calendar days earlier
    states = {d: clock.state(CAL, _day(d)) for d in ("2026-09-24", "2026-09-28", "2026-09-29", "2026-10-09")}
    assert states == {
        "2026-09-24": "on_time",
        "2026-09-28": "on_time",
        "2026-09-29": "due_soon",
        "2026-10-09": "due_soon",
    }
    assert clock.state(CAL, date(2026, 10, 10)) == "overdue"  # red the day after the due date
    assert clock.remaining_workdays(CAL, date(2026, 10, 12)) == -2  # 10/10 and 10/12 over


def test_yellow_counted_in_calendar_days_starts_on_another_date() -> None:
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=5)
    assert clock.warn_on(CAL, days=3, unit="calendar") == date(2026, 10, 6)
    assert clock.state(CAL, date(2026, 10, 5), unit="calendar") == "on_time"
    assert clock.state(CAL, date(2026, 10, 6), unit="calendar") == "due_soon"


def test_the_timer_waits_for_the_first_yellow_day_then_the_first_red_day_then_nothing() -> None:
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=5)
    assert clock.next_change(CAL, THU_24_SEP) == date(2026, 9, 29)
    assert clock.next_change(CAL, date(2026, 9, 29)) == date(2026, 10, 10)
    assert clock.next_change(CAL, date(2026, 10, 10)) is None


@pytest.mark.parametrize("n", [1, 3, 5])
def test_a_correction_pause_of_n_working_days_moves_the_due_date_by_n_working_days(n: int) -> None:
    start = date(2026, 9, 28)  # Monday, the 1st working day of the count
    end = CAL.add_workdays(start - timedelta(days=1), n)  # the pause covers exactly n working days
    paused = Clock(
        accepted_on=THU_24_SEP, limit_workdays=7, pauses=(Pause(kind="correction", start=start, end=end),)
    )
    assert paused.due_on(CAL) == CAL.add_workdays(date(2026, 10, 12), n)
    assert paused.used_workdays(CAL, end) == 0
    assert paused.used_workdays(CAL, paused.due_on(CAL) or THU_24_SEP) == 7
    assert paused.state(CAL, start) == "paused"
    assert paused.next_change(CAL, start) == end + timedelta(days=1)


def test_a_pause_over_a_holiday_only_moves_nothing() -> None:
    over_holiday = Pause(kind="expert_review", start=date(2026, 10, 1), end=date(2026, 10, 7))
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=7, pauses=(over_holiday,))
    assert clock.due_on(CAL) == date(2026, 10, 12)


def test_overlapping_pauses_do_not_count_their_common_days_twice() -> None:
    a = Pause(kind="expert_review", start=date(2026, 9, 28), end=date(2026, 9, 30))  # 3 working days
    b = Pause(kind="testing", start=date(2026, 9, 29), end=date(2026, 10, 8))  # adds 10/8 only
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=7, pauses=(b, a))
    assert clock.due_on(CAL) == CAL.add_workdays(date(2026, 10, 12), 4)


def test_an_extension_of_ten_working_days_moves_the_due_date_by_ten_working_days() -> None:
    extension = Extension(days=10, reason="需征求相关部门意见", approved_by=APPROVER)
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=7, extensions=(extension,))
    assert clock.total_workdays == 17
    assert clock.due_on(CAL) == CAL.add_workdays(date(2026, 10, 12), 10) == date(2026, 10, 26)
    assert clock.used_workdays(CAL, date(2026, 10, 26)) == 17


def test_an_open_pause_freezes_the_clock_until_it_is_closed() -> None:
    open_pause = Pause(kind="correction", start=date(2026, 9, 29))
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=7, pauses=(open_pause,))
    assert (clock.due_on(CAL), clock.deadline_at(CAL), clock.warn_on(CAL)) == (None, None, None)
    assert clock.state(CAL, date(2026, 10, 20)) == "paused"
    assert clock.next_change(CAL, date(2026, 10, 20)) is None  # closing the pause is an event of its own
    assert clock.used_workdays(CAL, date(2026, 10, 20)) == 1  # 9/28 only: the count stands still
    closed = clock.model_copy(update={"pauses": (open_pause.model_copy(update={"end": date(2026, 10, 20)}),)})
    assert closed.due_on(CAL) == CAL.add_workdays(date(2026, 10, 20), 6)
    assert closed.state(CAL, date(2026, 10, 21)) == "on_time"


def test_a_pause_recorded_ahead_counts_only_from_its_start() -> None:
    ahead = Pause(kind="hearing", start=date(2026, 10, 9))
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=7, pauses=(ahead,))
    assert clock.state(CAL, date(2026, 9, 28)) == "on_time"
    assert clock.next_change(CAL, date(2026, 9, 28)) == date(2026, 10, 8)  # yellow, as without the pause
    assert clock.next_change(CAL, date(2026, 10, 8)) == date(2026, 10, 9)  # then held by the hearing
    assert clock.state(CAL, date(2026, 10, 9)) == "paused"
    assert clock.used_workdays(CAL, date(2026, 10, 20)) == 4


def test_a_pause_opened_after_the_due_date_does_not_rescue_an_overdue_case() -> None:
    late = Pause(kind="correction", start=date(2026, 10, 14))
    clock = Clock(accepted_on=THU_24_SEP, limit_workdays=7, pauses=(late,))
    assert clock.due_on(CAL) == date(2026, 10, 12)
    assert clock.state(CAL, date(2026, 10, 15)) == "overdue"
    assert clock.next_change(CAL, date(2026, 10, 15)) is None


def test_a_clock_running_past_the_calendar_data_raises_instead_of_guessing() -> None:
    clock = Clock(accepted_on=date(LAST_COVERED_YEAR, 12, 20), limit_workdays=20)
    with pytest.raises(CalendarNotCovered) as raised:
        clock.due_on(CAL)
    assert raised.value.data["year"] == LAST_COVERED_YEAR + 1
    with pytest.raises(CalendarNotCovered):
        clock.state(CAL, date(LAST_COVERED_YEAR, 12, 21))


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"limit_workdays": 0}, "limit_workdays"),
        ({"pauses": [{"kind": "correction", "start": "2026-09-23"}]}, ""),
        ({"pauses": [{"kind": "correction", "start": "2026-09-29", "end": "2026-09-28"}]}, "pauses.0"),
        ({"pauses": [{"kind": "lunch", "start": "2026-09-29"}]}, "pauses.0.kind"),
        ({"extensions": [{"days": 0, "reason": "x", "approved_by": str(APPROVER)}]}, "extensions.0.days"),
        ({"extensions": [{"days": 5, "reason": "  ", "approved_by": str(APPROVER)}]}, "extensions.0.reason"),
    ],
    ids=[
        "no-limit",
        "pause-before-acceptance",
        "pause-ends-before-start",
        "unknown-kind",
        "zero-days",
        "no-reason",
    ],
)
def test_an_impossible_clock_is_refused_with_the_field_named(fields: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Clock.model_validate({"accepted_on": "2026-09-24", "limit_workdays": 7} | fields)
    assert [".".join(str(p) for p in e["loc"]) for e in raised.value.errors()] == [where]


def test_a_clock_goes_through_json_unchanged_and_every_state_and_pause_has_a_label() -> None:
    clock = Clock(
        accepted_on=THU_24_SEP,
        limit_workdays=7,
        extensions=(Extension(days=10, reason="专家论证", approved_by=APPROVER),),
        pauses=(Pause(kind="expert_review", start=date(2026, 9, 28), end=date(2026, 9, 30)),),
    )
    assert Clock.model_validate_json(clock.model_dump_json()) == clock
    assert set(STATE_LABELS) == {"on_time", "due_soon", "overdue", "paused"}
    assert STATE_LABELS["paused"] == "暂停计时"
    assert PAUSE_LABELS["correction"] == "补正材料"


accepted = st.dates(min_value=date(2024, 1, 1), max_value=date(LAST_COVERED_YEAR, 6, 30))


@st.composite
def clocks(draw: st.DrawFn) -> Clock:
    accepted_on = draw(accepted)
    spans = draw(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 20)), max_size=3))
    pauses = tuple(
        Pause(
            kind="correction", start=accepted_on + timedelta(days=a), end=accepted_on + timedelta(days=a + n)
        )
        for a, n in spans
    )
    extensions = tuple(
        Extension(days=d, reason="延期", approved_by=APPROVER)
        for d in draw(st.lists(st.integers(1, 10), max_size=2))
    )
    return Clock(
        accepted_on=accepted_on,
        limit_workdays=draw(st.integers(1, 30)),
        extensions=extensions,
        pauses=pauses,
    )


@PURE
@given(clocks())
def test_the_due_date_is_a_working_day_on_which_exactly_the_whole_limit_is_used(clock: Clock) -> None:
    due = clock.due_on(CAL)
    assert due is not None
    assert CAL.is_workday(due)
    assert not any(p.contains(due) for p in clock.pauses)
    assert clock.used_workdays(CAL, due) == clock.limit_workdays + sum(e.days for e in clock.extensions)
    assert clock.used_workdays(CAL, due - timedelta(days=1)) == clock.total_workdays - 1
    assert clock.state(CAL, due) != "overdue"
    assert clock.state(CAL, due + timedelta(days=1)) == "overdue"


@PURE
@given(clocks(), st.integers(0, 150), st.sampled_from(["workday", "calendar"]))
def test_the_next_change_is_the_first_later_day_with_another_state(
    clock: Clock, offset: int, unit: str
) -> None:
    today = clock.accepted_on + timedelta(days=offset)
    due = clock.due_on(CAL)
    assert due is not None
    assert unit in ("workday", "calendar")
    if unit == "workday":
        expected = _scan_next_change(clock, today, due + timedelta(days=1))
        assert clock.next_change(CAL, today) == expected
    else:
        now: ClockState = clock.state(CAL, today, unit="calendar")
        change = clock.next_change(CAL, today, unit="calendar")
        day = today + timedelta(days=1)
        while change is not None and day < change:
            assert clock.state(CAL, day, unit="calendar") == now
            day += timedelta(days=1)
        if change is not None:
            assert clock.state(CAL, change, unit="calendar") != now
        else:
            assert clock.state(CAL, due + timedelta(days=1), unit="calendar") == now == "overdue"


@PURE
@given(clocks(), st.integers(0, 120))
def test_an_open_pause_freezes_the_due_date_only_if_it_starts_before_the_count_ends(
    clock: Clock, offset: int
) -> None:
    due = clock.due_on(CAL)
    assert due is not None
    start = clock.accepted_on + timedelta(days=offset)
    held = clock.model_copy(update={"pauses": (*clock.pauses, Pause(kind="expert_review", start=start))})
    assert held.due_on(CAL) == (None if start <= due else due)
    assert held.state(CAL, max(start, due + timedelta(days=1))) == ("paused" if start <= due else "overdue")
