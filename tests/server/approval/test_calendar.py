"""The working-day calendar as data: seeded from chinese-calendar, cross-checked against the independent
`holidays` package, stored in PostgreSQL, editable day by day, and loud past its data.

Holiday dates: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04): 中秋节 9/25-9/27, 国庆节 10/1-10/7
with 9/20 (Sun) and 10/10 (Sat) worked (see tests/server/test_workdays.py for the whole year).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from typing import Any

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import workdays
from server.approval.calendar import (
    MAKE_UP_NOTE,
    NOTE_MAX_CHARS,
    CalendarDay,
    IncompleteCalendar,
    WorkCalendar,
    load,
    package_calendar,
    seed,
    seed_rows,
    set_day,
)
from server.errors import InvalidInput
from server.workdays import FIRST_COVERED_YEAR, LAST_COVERED_YEAR, CalendarNotCovered

PURE = settings(database=None, max_examples=200, deadline=None)
_PACKAGE = package_calendar()


@pytest.fixture
def cal() -> WorkCalendar:
    return _PACKAGE


@pytest.fixture
async def conn(pool: Any) -> AsyncIterator[Any]:
    """A connection inside a transaction that is rolled back, on an emptied calendar table."""
    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            await connection.execute("DELETE FROM workday_calendar")
            yield connection
        finally:
            await transaction.rollback()


def _years(first: int, last: int, edit: Callable[[CalendarDay], CalendarDay] = lambda r: r) -> WorkCalendar:
    return WorkCalendar(edit(r) for r in seed_rows(first, last))


# The worked examples of domain research §1.3, on the calendar as data.


def test_seven_working_days_from_thursday_24_september_2026_end_on_monday_12_october(
    cal: WorkCalendar,
) -> None:
    assert cal.add_workdays(date(2026, 9, 24), 7) == date(2026, 10, 12)
    assert cal.workdays_between(date(2026, 9, 24), date(2026, 10, 12)) == 7


def test_five_working_days_end_on_9_october_and_three_working_days_before_is_29_september(
    cal: WorkCalendar,
) -> None:
    due = cal.add_workdays(date(2026, 9, 24), 5)
    assert due == date(2026, 10, 9)
    assert cal.workdays_before(due, 3) == date(2026, 9, 29)


def test_holidays_carry_their_chinese_name_and_make_up_days_say_so(cal: WorkCalendar) -> None:
    assert cal.entry(date(2026, 10, 1)) == CalendarDay(day=date(2026, 10, 1), is_workday=False, note="国庆节")
    assert cal.entry(date(2026, 10, 3)).note == "国庆节"  # a Saturday inside the break
    assert cal.entry(date(2026, 9, 25)).note == "中秋"
    assert cal.entry(date(2026, 2, 16)).note == "春节"
    assert (cal.is_workday(date(2026, 10, 10)), cal.entry(date(2026, 10, 10)).note) == (True, MAKE_UP_NOTE)
    assert cal.entry(date(2026, 9, 20)).note == MAKE_UP_NOTE
    assert cal.entry(date(2026, 3, 7)) == CalendarDay(
        day=date(2026, 3, 7), is_workday=False
    )  # plain Saturday
    assert cal.entry(date(2026, 3, 9)) == CalendarDay(day=date(2026, 3, 9), is_workday=True)  # plain Monday


def test_the_seed_holds_every_day_of_every_year_the_package_has(cal: WorkCalendar) -> None:
    assert cal.years == tuple(range(FIRST_COVERED_YEAR, LAST_COVERED_YEAR + 1))
    rows = seed_rows(2024, 2026)
    assert len(rows) == 366 + 365 + 365
    assert [r.day for r in rows] == [date(2024, 1, 1) + timedelta(days=n) for n in range(len(rows))]
    assert {r.source for r in rows} == {"chinese-calendar"}


def test_every_day_of_2024_to_2026_agrees_with_the_independent_holidays_package(cal: WorkCalendar) -> None:
    other = holidays.country_holidays("CN", years=range(2024, 2027))
    day, disagreements = date(2024, 1, 1), []
    while day <= date(2026, 12, 31):
        if cal.is_workday(day) != other.is_working_day(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


def test_the_year_after_the_package_data_is_refused_where_the_holidays_package_would_guess(
    cal: WorkCalendar,
) -> None:
    after = LAST_COVERED_YEAR + 1  # 2027 with chinese-calendar 1.11
    first_monday = next(date(after, 1, d) for d in range(1, 8) if date(after, 1, d).weekday() == 0)
    rules_only = holidays.country_holidays("CN", years=after)  # no make-up days: a plain-week guess
    guessed = rules_only.is_working_day(first_monday)
    assert isinstance(guessed, bool)
    assert not cal.covers(after)
    with pytest.raises(CalendarNotCovered) as raised:
        cal.is_workday(first_monday)
    assert raised.value.data["year"] == after
    with pytest.raises(CalendarNotCovered):
        seed_rows(after, after)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add_workdays(date(LAST_COVERED_YEAR, 12, 24), 10),
        lambda c: c.add_workdays(date(LAST_COVERED_YEAR + 1, 3, 1), 0),
        lambda c: c.workdays_between(date(LAST_COVERED_YEAR, 12, 1), date(LAST_COVERED_YEAR + 1, 1, 31)),
        lambda c: c.workdays_before(date(FIRST_COVERED_YEAR, 1, 5), 10),
        lambda c: c.add_days(date(LAST_COVERED_YEAR, 12, 24), 10, "calendar"),
        lambda c: c.entry(date(FIRST_COVERED_YEAR - 1, 6, 1)),
    ],
    ids=["add-past-end", "add-zero-uncovered", "between", "before-start", "calendar-days", "entry"],
)
def test_every_function_refuses_dates_outside_the_covered_years(
    cal: WorkCalendar, call: Callable[[WorkCalendar], object]
) -> None:
    with pytest.raises(CalendarNotCovered):
        call(cal)


def test_the_refusal_names_the_calendars_own_years_and_a_gap_year_is_not_bridged() -> None:
    gappy = WorkCalendar([*seed_rows(2024, 2024), *seed_rows(2026, 2026)])
    assert gappy.years == (2024, 2026)
    with pytest.raises(CalendarNotCovered) as raised:
        gappy.add_workdays(date(2024, 12, 20), 30)
    error = raised.value
    assert (error.status, error.code) == (500, "calendar_not_covered")
    assert error.data == {
        "year": 2025,
        "first_covered_year": 2024,
        "last_covered_year": 2026,
        "covered_years": [2024, 2026],
    }
    assert "2025" in error.detail
    assert "2024、2026 年" in error.detail
    with pytest.raises(CalendarNotCovered, match="2025"):
        gappy.workdays_before(date(2026, 1, 10), 10)
    with pytest.raises(CalendarNotCovered, match="2025"):
        gappy.workdays_between(date(2024, 12, 1), date(2026, 1, 31))


def test_the_package_variant_of_the_error_is_unchanged() -> None:
    error = CalendarNotCovered(date(2100, 1, 4))
    assert "chinese-calendar" in error.detail
    assert (error.data["first_covered_year"], error.data["last_covered_year"]) == (
        FIRST_COVERED_YEAR,
        LAST_COVERED_YEAR,
    )


def test_a_year_with_a_missing_day_is_refused_as_damaged_data() -> None:
    rows = [r for r in seed_rows(2025, 2025) if r.day != date(2025, 7, 1)]
    with pytest.raises(IncompleteCalendar, match="2025"):
        WorkCalendar(rows)


def test_a_datetime_is_refused_because_its_date_depends_on_the_time_zone(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError, match="Asia/Shanghai"):
        cal.is_workday(datetime(2026, 3, 9, 23, 0))


def test_negative_counts_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        cal.add_workdays(date(2026, 3, 9), -1)
    with pytest.raises(ValueError, match="negative"):
        cal.workdays_before(date(2026, 3, 9), -1)
    with pytest.raises(ValueError, match="negative"):
        cal.add_days(date(2026, 3, 9), -1, "calendar")


def test_a_calendar_day_limit_ending_on_a_holiday_ends_on_the_next_working_day(cal: WorkCalendar) -> None:
    # 民法典 §203: 9/24 + 7 days is 10/1 (国庆节); the break lasts to 10/7, so the limit ends on 10/8.
    assert cal.add_days(date(2026, 9, 24), 7, "calendar") == date(2026, 10, 8)
    assert cal.add_days(date(2026, 9, 24), 5, "calendar") == date(2026, 9, 29)  # a working day: kept
    assert cal.add_days(date(2026, 10, 5), 5, "calendar") == date(2026, 10, 10)  # make-up Saturday
    assert cal.add_days(date(2026, 9, 24), 7, "workday") == date(2026, 10, 12)
    assert cal.add_days(date(2026, 9, 26), 0, "calendar") == date(2026, 9, 26)


def test_an_edited_day_changes_the_arithmetic() -> None:
    def fewer_make_up_days(row: CalendarDay) -> CalendarDay:
        return row.model_copy(update={"is_workday": False}) if row.day == date(2026, 10, 10) else row

    edited = _years(2026, 2026, fewer_make_up_days)
    assert edited.add_workdays(date(2026, 9, 24), 7) == date(2026, 10, 13)
    assert edited != _years(2026, 2026)


covered = st.dates(min_value=date(2005, 1, 1), max_value=date(LAST_COVERED_YEAR - 1, 6, 30))


@PURE
@given(covered, st.integers(min_value=0, max_value=120), covered)
def test_the_calendar_as_data_counts_exactly_like_the_package_module(
    start: date, n: int, other: date
) -> None:
    cal = _PACKAGE
    assert cal.is_workday(start) == workdays.is_workday(start)
    assert cal.add_workdays(start, n) == workdays.add_workdays(start, n)
    assert cal.workdays_before(start, n) == workdays.workdays_before(start, n)
    assert cal.workdays_between(start, other) == workdays.workdays_between(start, other)


# The stored calendar (PostgreSQL, each test in a rolled-back transaction).


async def test_seeding_stores_every_package_day_once_and_loading_gives_the_same_calendar(
    conn: Any, cal: WorkCalendar
) -> None:
    inserted = await seed(conn)
    assert inserted == sum(366 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 365 for y in cal.years)
    assert await seed(conn) == 0
    assert await load(conn) == cal


async def test_an_operators_edit_moves_due_dates_and_survives_a_later_seed(conn: Any) -> None:
    await seed(conn)
    edited = await set_day(conn, date(2026, 10, 9), False, "  示例：地方调整放假  ")
    assert edited == CalendarDay(
        day=date(2026, 10, 9), is_workday=False, note="示例：地方调整放假", source="operator"
    )
    assert await seed(conn) == 0
    stored = await load(conn)
    assert stored.entry(date(2026, 10, 9)) == edited
    assert stored.add_workdays(date(2026, 9, 24), 7) == date(2026, 10, 13)


async def test_a_day_of_a_year_not_in_the_table_cannot_be_edited(conn: Any) -> None:
    await seed(conn)
    with pytest.raises(InvalidInput) as raised:
        await set_day(conn, date(LAST_COVERED_YEAR + 1, 1, 4), True, "")
    assert raised.value.data["fields"] == [
        {"field": "day", "message": f"工作日历尚未包含 {LAST_COVERED_YEAR + 1} 年", "type": "not_covered"}
    ]
    assert not (await load(conn)).covers(LAST_COVERED_YEAR + 1)


@pytest.mark.parametrize(
    ("note", "kind"),
    [("长" * (NOTE_MAX_CHARS + 1), "string_too_long"), ("国庆\n节", "invalid")],
    ids=["too-long", "control-character"],
)
async def test_a_bad_note_is_refused_field_by_field(conn: Any, note: str, kind: str) -> None:
    await seed(conn)
    with pytest.raises(InvalidInput) as raised:
        await set_day(conn, date(2026, 10, 9), False, note)
    assert [(f["field"], f["type"]) for f in raised.value.data["fields"]] == [("note", kind)]  # type: ignore[attr-defined]
    assert (await load(conn)).is_workday(date(2026, 10, 9))


async def test_loading_a_damaged_year_fails_loudly(conn: Any) -> None:
    await seed(conn)
    await conn.execute("DELETE FROM workday_calendar WHERE day = '2025-07-01'")
    with pytest.raises(IncompleteCalendar, match="2025"):
        await load(conn)
