"""Working-day arithmetic on real Chinese holiday arrangements, and the loud error past the calendar data.

The 2025 dates are from 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 2024-11-12):
春节 1/28-2/4 with 1/26 (Sun) and 2/8 (Sat) worked; 劳动节 5/1-5/5 with 4/27 (Sun) worked;
国庆节、中秋节 10/1-10/8 with 9/28 (Sun) and 10/11 (Sat) worked.
The 2026 dates are from 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04, published by 新华社):
元旦 1/1-1/3 with 1/4 (Sun) worked; 春节 2/15-2/23 with 2/14 (Sat) and 2/28 (Sat) worked;
劳动节 5/1-5/5 with 5/9 (Sat) worked; 中秋节 9/25-9/27; 国庆节 10/1-10/7 with 9/20 (Sun) and 10/10 (Sat)
worked. chinese-calendar 1.11.0 holds exactly these dates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import TongbanError
from server.workdays import (
    DEADLINE_LABELS,
    DUE_SOON_WORKDAYS,
    FIRST_COVERED_YEAR,
    LAST_COVERED_YEAR,
    CalendarNotCovered,
    add_workdays,
    deadline_state,
    is_workday,
    workdays_before,
    workdays_between,
)

PURE = settings(database=None, max_examples=300)

HOLIDAYS = [
    date(2025, 1, 28),  # 春节 2025, 除夕 (Tue)
    date(2025, 2, 4),  # 春节 2025, last day (Tue)
    date(2025, 5, 5),  # 劳动节 2025, last day (Mon)
    date(2025, 10, 6),  # 中秋节 2025 inside the 8-day 国庆 break (Mon)
    date(2025, 10, 8),  # 国庆节 2025, last day (Wed)
    date(2026, 1, 2),  # 元旦 2026 (Fri)
    date(2026, 2, 16),  # 春节 2026 (Mon)
    date(2026, 2, 23),  # 春节 2026, last day (Mon)
    date(2026, 5, 4),  # 劳动节 2026 (Mon)
    date(2026, 9, 25),  # 中秋节 2026 (Fri)
    date(2026, 10, 7),  # 国庆节 2026, last day (Wed)
]

MAKE_UP_WORKDAYS = [
    date(2025, 1, 26),  # Sun, for 春节
    date(2025, 2, 8),  # Sat, for 春节
    date(2025, 4, 27),  # Sun, for 劳动节
    date(2025, 9, 28),  # Sun, for 国庆节
    date(2025, 10, 11),  # Sat, for 国庆节
    date(2026, 1, 4),  # Sun, for 元旦
    date(2026, 2, 14),  # Sat, for 春节
    date(2026, 2, 28),  # Sat, for 春节
    date(2026, 5, 9),  # Sat, for 劳动节
    date(2026, 9, 20),  # Sun, for 国庆节
    date(2026, 10, 10),  # Sat, for 国庆节
]


@pytest.mark.parametrize("day", HOLIDAYS, ids=str)
def test_a_statutory_holiday_on_a_weekday_is_not_a_workday(day: date) -> None:
    assert day.weekday() < 5
    assert not is_workday(day)


@pytest.mark.parametrize("day", MAKE_UP_WORKDAYS, ids=str)
def test_a_make_up_saturday_or_sunday_is_a_workday(day: date) -> None:
    assert day.weekday() >= 5
    assert is_workday(day)


def test_an_ordinary_weekend_is_not_a_workday_and_an_ordinary_weekday_is() -> None:
    assert not is_workday(date(2026, 3, 7))  # Sat
    assert not is_workday(date(2026, 3, 8))  # Sun
    assert is_workday(date(2026, 3, 9))  # Mon


def test_the_accepted_day_is_not_counted_and_the_limit_skips_mid_autumn_and_national_day() -> None:
    # domain research §1.3 worked example: 9/25-27 and 10/1-7 skipped, make-up Sat 10/10 counted.
    assert add_workdays(date(2026, 9, 24), 7) == date(2026, 10, 12)
    assert add_workdays(date(2026, 9, 24), 5) == date(2026, 10, 9)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2026, 3, 9), 1, date(2026, 3, 10)),  # the next day, not the same day
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Fri → Mon over a plain weekend
        (date(2025, 1, 24), 1, date(2025, 1, 26)),  # Fri → make-up Sun before 春节 2025
        (date(2025, 1, 24), 3, date(2025, 2, 5)),  # 1/26, 1/27, then 2/5 after the break
        (date(2025, 2, 5), 3, date(2025, 2, 8)),  # 2/6, 2/7, make-up Sat 2/8
        (date(2025, 4, 30), 1, date(2025, 5, 6)),  # across 劳动节 2025
        (date(2025, 9, 30), 1, date(2025, 10, 9)),  # across the 8-day 国庆/中秋 2025
        (date(2025, 10, 9), 2, date(2025, 10, 11)),  # 10/10, make-up Sat 10/11
        (date(2025, 12, 31), 1, date(2026, 1, 4)),  # into the new year, on the make-up Sun
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # make-up Sat before 春节 2026
        (date(2026, 2, 13), 2, date(2026, 2, 24)),  # then over the nine-day break
        (date(2026, 2, 27), 1, date(2026, 2, 28)),  # make-up Sat after 春节 2026
        (date(2026, 4, 30), 1, date(2026, 5, 6)),  # across 劳动节 2026
        (date(2026, 5, 8), 1, date(2026, 5, 9)),  # make-up Sat after 劳动节 2026
        (date(2026, 2, 15), 1, date(2026, 2, 24)),  # accepted on a holiday: the count starts after it
    ],
    ids=str,
)
def test_adding_workdays_skips_holidays_and_counts_make_up_days(start: date, n: int, due: date) -> None:
    assert add_workdays(start, n) == due


def test_adding_zero_workdays_returns_the_start_day() -> None:
    assert add_workdays(date(2026, 10, 1), 0) == date(2026, 10, 1)
    assert add_workdays(date(2026, 3, 9), 0) == date(2026, 3, 9)


def test_a_negative_number_of_workdays_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_workdays(date(2026, 3, 9), -1)
    with pytest.raises(ValueError, match="negative"):
        workdays_before(date(2026, 3, 9), -1)


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2026, 9, 24), date(2026, 10, 12), 7),
        (date(2026, 3, 9), date(2026, 3, 9), 0),
        (date(2026, 2, 13), date(2026, 2, 27), 5),  # 2/14 (make-up Sat), 2/24-2/27
        (date(2026, 2, 14), date(2026, 2, 23), 0),  # the whole 春节 2026 break
        (
            date(2025, 9, 27),
            date(2025, 10, 11),
            6,
        ),  # 9/28 (make-up Sun), 9/29, 9/30, 10/9, 10/10, 10/11 (Sat)
        (date(2026, 10, 12), date(2026, 9, 24), -7),  # reversed: negative, e.g. working days overdue
    ],
    ids=str,
)
def test_counting_workdays_between_two_dates_excludes_the_start_and_includes_the_end(
    start: date, end: date, count: int
) -> None:
    assert workdays_between(start, end) == count


def test_the_yellow_warning_of_a_five_day_item_falls_ten_calendar_days_before_its_deadline() -> None:
    # domain research §1.3: due 10/09, "3 working days before" is 9/29.
    assert workdays_before(date(2026, 10, 9), DUE_SOON_WORKDAYS) == date(2026, 9, 29)
    assert workdays_before(date(2026, 2, 24), 1) == date(2026, 2, 14)  # back over 春节 to the make-up Sat
    assert workdays_before(date(2026, 10, 9), 0) == date(2026, 10, 9)


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2026, 9, 24), "on_time"),
        (date(2026, 9, 27), "on_time"),  # holiday Sun: 9/28, 9/29, 9/30, 10/8, 10/9 left
        (date(2026, 9, 28), "on_time"),  # four working days left
        (date(2026, 9, 29), "due_soon"),  # three left: the yellow day
        (date(2026, 10, 1), "due_soon"),  # during 国庆: 10/8 and 10/9 left
        (date(2026, 10, 9), "due_soon"),  # the due day itself is still in time
        (date(2026, 10, 10), "overdue"),  # the next day, a make-up Saturday
        (date(2026, 10, 12), "overdue"),
    ],
    ids=str,
)
def test_a_task_due_on_9_october_2026_turns_yellow_three_workdays_before_and_red_the_day_after(
    today: date, state: str
) -> None:
    assert deadline_state(date(2026, 10, 9), today) == state


def test_deadline_states_have_chinese_labels_for_the_badge() -> None:
    assert dict(DEADLINE_LABELS) == {"on_time": "正常", "due_soon": "即将到期", "overdue": "已超期"}


def test_an_overdue_task_stays_overdue_after_the_calendar_data_runs_out() -> None:
    assert deadline_state(date(2026, 10, 9), date(LAST_COVERED_YEAR + 1, 1, 5)) == "overdue"


def test_a_far_off_deadline_is_on_time() -> None:
    assert deadline_state(date(LAST_COVERED_YEAR, 12, 31), date(FIRST_COVERED_YEAR, 1, 5)) == "on_time"


def test_a_date_in_a_far_future_year_raises_calendar_not_covered_naming_the_year() -> None:
    with pytest.raises(CalendarNotCovered) as raised:
        is_workday(date(2100, 1, 4))  # a Monday: never guessed as a plain workday
    error = raised.value
    assert isinstance(error, TongbanError)
    assert (error.status, error.code) == (500, "calendar_not_covered")
    assert "2100" in error.detail
    assert "更新" in error.detail
    assert "chinese-calendar" in error.detail
    assert error.data["year"] == 2100


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_workdays(date(LAST_COVERED_YEAR, 12, 24), 10),  # runs past the last covered year
        lambda: add_workdays(date(LAST_COVERED_YEAR + 1, 3, 1), 0),
        lambda: workdays_between(date(LAST_COVERED_YEAR, 12, 1), date(LAST_COVERED_YEAR + 1, 1, 31)),
        lambda: workdays_before(date(FIRST_COVERED_YEAR, 1, 5), 10),  # runs before the first covered year
        lambda: deadline_state(date(LAST_COVERED_YEAR + 1, 1, 10), date(LAST_COVERED_YEAR + 1, 1, 4)),
    ],
    ids=["add-past-end", "add-zero-uncovered", "between", "before-start", "state"],
)
def test_every_function_refuses_dates_outside_the_calendar_data(call: Callable[[], object]) -> None:
    with pytest.raises(CalendarNotCovered):
        call()


def test_a_datetime_is_refused_because_its_date_depends_on_the_time_zone() -> None:
    with pytest.raises(TypeError, match="Asia/Shanghai"):
        is_workday(datetime(2026, 3, 9, 23, 0))


covered_starts = st.dates(
    min_value=date(FIRST_COVERED_YEAR, 1, 1), max_value=date(LAST_COVERED_YEAR - 1, 6, 30)
)


@PURE
@given(covered_starts, st.integers(min_value=0, max_value=120))
def test_counting_the_days_to_a_computed_deadline_gives_back_the_limit(start: date, n: int) -> None:
    due = add_workdays(start, n)
    assert workdays_between(start, due) == n
    if n:
        assert is_workday(due)
    if is_workday(start):
        assert workdays_before(due, n) == start
