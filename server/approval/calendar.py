"""The working-day calendar as data: which dates are working days, held in the `workday_calendar` table
so that an operator can correct a day (a late State Council notice, a local arrangement) without a release.

The table is seeded from the `chinese-calendar` package (built from 国务院办公厅关于某年部分节假日安排的
通知); an operator's edit is never overwritten by a later seed. `load` reads it into a `WorkCalendar`: an
immutable in-memory calendar of whole years. A date in a year the calendar does not hold raises
`server.workdays.CalendarNotCovered`: it is never guessed as a plain Monday-to-Friday week.

Counting rule, the same as `server.workdays`: 行政许可法 §82 counts its limits in working days; the start
day is not counted and counting starts the next day (民法典 §201). A limit of n working days that starts
on `start` ends at the end of the n-th working day after `start`. Calendar-day limits follow 民法典 §203:
when the last day is a holiday (statutory or weekend), the limit ends on the next working day.

Dates are local dates in Asia/Shanghai; a `datetime` is refused (its date depends on the time zone).
Must not: read the clock, know about projects or cases (`server.approval.clock` does), or decide who
may edit a day (the admin route declares that permission).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, Literal

import chinese_calendar
from pydantic import BaseModel, ConfigDict

from server.errors import InvalidInput
from server.workdays import FIRST_COVERED_YEAR, LAST_COVERED_YEAR, CalendarNotCovered

DayUnit = Literal["workday", "calendar"]

PACKAGE_SOURCE: Final = "chinese-calendar"
OPERATOR_SOURCE: Final = "operator"
MAKE_UP_NOTE: Final = "调休上班"
NOTE_MAX_CHARS: Final = 60  # room for a holiday name and a document number (国办发明电〔2025〕7号)

_ONE_DAY: Final = timedelta(days=1)

INSERT_DAYS = """
    INSERT INTO workday_calendar (day, is_workday, note, source)
    SELECT * FROM unnest($1::date[], $2::boolean[], $3::text[], $4::text[])
    ON CONFLICT (day) DO NOTHING"""
ALL_DAYS = "SELECT day, is_workday, note, source FROM workday_calendar ORDER BY day"
UPDATE_DAY = """
    UPDATE workday_calendar SET is_workday = $2, note = $3, source = $4, updated_at = now()
    WHERE day = $1
    RETURNING day, is_workday, note, source"""


class CalendarDay(BaseModel):
    """One row of the calendar. `note` names the holiday (国庆节) or says 调休上班; empty for plain days."""

    model_config = ConfigDict(frozen=True)

    day: date
    is_workday: bool
    note: str = ""
    source: str = PACKAGE_SOURCE


class IncompleteCalendar(ValueError):
    """The rows given for a year do not cover every day of it: the data is damaged, nothing is guessed."""


def _local(day: date) -> date:
    if isinstance(day, datetime):
        raise TypeError("pass a local date in Asia/Shanghai, not a datetime")
    return day


def _days_in(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


class WorkCalendar:
    """An immutable calendar of whole years, built from rows (one per day of each covered year).

    Arithmetic is by binary search over the sorted working days, so a limit of any length costs the same.
    """

    __slots__ = ("_days", "_workdays", "_years")

    def __init__(self, rows: Iterable[CalendarDay]) -> None:
        days = {row.day: row for row in rows}
        per_year: dict[int, int] = {}
        for day in days:
            per_year[day.year] = per_year.get(day.year, 0) + 1
        for year, count in sorted(per_year.items()):
            if count != _days_in(year):
                raise IncompleteCalendar(f"workday calendar year {year} has {count} of {_days_in(year)} days")
        self._days: Mapping[date, CalendarDay] = MappingProxyType(days)
        self._years: frozenset[int] = frozenset(per_year)
        self._workdays: tuple[int, ...] = tuple(
            sorted(d.toordinal() for d, row in days.items() if row.is_workday)
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkCalendar) and dict(self._days) == dict(other._days)

    def __hash__(self) -> int:
        return hash((self._years, self._workdays))

    def __repr__(self) -> str:
        years = self.years
        return f"WorkCalendar({years[0]}–{years[-1]}, {len(years)} years)" if years else "WorkCalendar()"

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    def covers(self, year: int) -> bool:
        return year in self._years

    def entry(self, day: date) -> CalendarDay:
        """The row of `day` (its note and source); raises CalendarNotCovered outside the covered years."""
        return self._days[self._covered(day)]

    def is_workday(self, day: date) -> bool:
        """True for a working day: Monday to Friday that is no holiday, or a make-up day (调休上班)."""
        return self._days[self._covered(day)].is_workday

    def add_workdays(self, start: date, n: int) -> date:
        """The last day of a limit of `n` working days that starts on `start` (itself not counted).

        For n ≥ 1 the result is a working day; n = 0 returns `start`. ValueError for negative n.
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}; use workdays_before to count backwards")
        self._covered(start)
        if n == 0:
            return start
        index = bisect_right(self._workdays, start.toordinal()) + n - 1
        if index < len(self._workdays):
            end = date.fromordinal(self._workdays[index])
            if self._span_covered(start, end):
                return end
        raise self._not_covered(self._first_gap_after(start))

    def workdays_between(self, start: date, end: date) -> int:
        """The working days after `start` up to and including `end`; negative when `end` is before `start`.

        The inverse of `add_workdays`: `workdays_between(d, add_workdays(d, n)) == n`.
        """
        if _local(end) < _local(start):
            return -self.workdays_between(end, start)
        self._covered(start)
        if not self._span_covered(start, end):
            raise self._not_covered(self._first_gap_after(start))
        return bisect_right(self._workdays, end.toordinal()) - bisect_right(self._workdays, start.toordinal())

    def workdays_before(self, deadline: date, n: int) -> date:
        """The n-th working day before `deadline` (itself not counted); n = 0 returns `deadline`.

        For a working day d, `workdays_before(add_workdays(d, n), n) == d`. ValueError for negative n.
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}; use add_workdays to count forwards")
        self._covered(deadline)
        if n == 0:
            return deadline
        index = bisect_left(self._workdays, deadline.toordinal()) - n
        if index >= 0:
            day = date.fromordinal(self._workdays[index])
            if self._span_covered(day, deadline):
                return day
        raise self._not_covered(self._last_gap_before(deadline))

    def add_days(self, start: date, n: int, unit: DayUnit) -> date:
        """The last day of a limit of `n` days in `unit` that starts on `start` (itself not counted).

        "workday" is `add_workdays`. "calendar" counts every day; when the last day is not a working day
        the limit ends on the next working day (民法典 §203: 期间的最后一日是法定休假日的，以法定休假日
        结束的次日为期间的最后一日), so its result is a working day too for n ≥ 1.
        """
        if unit == "workday":
            return self.add_workdays(start, n)
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        self._covered(start)
        if n == 0:
            return start
        end = start + timedelta(days=n)
        while not self.is_workday(end):
            end += _ONE_DAY
        return end

    def _covered(self, day: date) -> date:
        if _local(day).year not in self._years:
            raise self._not_covered(day)
        return day

    def _span_covered(self, first: date, last: date) -> bool:
        return all(year in self._years for year in range(first.year, last.year + 1))

    def _first_gap_after(self, day: date) -> date:
        year = day.year
        while year in self._years:
            year += 1
        return date(year, 1, 1)

    def _last_gap_before(self, day: date) -> date:
        year = day.year
        while year in self._years:
            year -= 1
        return date(year, 12, 31)

    def _not_covered(self, day: date) -> CalendarNotCovered:
        return CalendarNotCovered(day, covered_years=self._years)


def _holiday_name(english: str | None) -> str:
    if english is None:
        return ""
    return str(chinese_calendar.Holiday(english).chinese)


def seed_rows(first_year: int, last_year: int) -> list[CalendarDay]:
    """Every day of the given years as the `chinese-calendar` package has them.

    A holiday (including the weekend days inside a holiday break) carries the holiday's Chinese name, a
    make-up working day carries 调休上班, other days no note. Raises CalendarNotCovered for a year the
    package does not hold.
    """
    for year in (first_year, last_year):
        if not FIRST_COVERED_YEAR <= year <= LAST_COVERED_YEAR:
            raise CalendarNotCovered(date(year, 1, 1))
    rows: list[CalendarDay] = []
    day = date(first_year, 1, 1)
    end = date(last_year, 12, 31)
    while day <= end:
        workday = bool(chinese_calendar.is_workday(day))
        on_holiday_list, english = chinese_calendar.get_holiday_detail(day)
        if workday:
            note = MAKE_UP_NOTE if day in chinese_calendar.workdays else ""
        else:
            note = _holiday_name(english) if on_holiday_list else ""
        rows.append(
            CalendarDay.model_construct(day=day, is_workday=workday, note=note, source=PACKAGE_SOURCE)
        )
        day += _ONE_DAY
    return rows


def package_calendar() -> WorkCalendar:
    """The calendar of every year the installed package holds, without the database (tests, tools)."""
    return WorkCalendar(seed_rows(FIRST_COVERED_YEAR, LAST_COVERED_YEAR))


async def seed(conn: Any) -> int:
    """Insert every day of every year the package holds; days already present (an operator's edit, an
    earlier seed) are left as they are. Returns the number of days inserted. Idempotent."""
    rows = seed_rows(FIRST_COVERED_YEAR, LAST_COVERED_YEAR)
    status: str = await conn.execute(
        INSERT_DAYS,
        [r.day for r in rows],
        [r.is_workday for r in rows],
        [r.note for r in rows],
        [r.source for r in rows],
    )
    return int(status.rsplit(" ", 1)[1])  # "INSERT 0 <n>"


async def load(conn: Any) -> WorkCalendar:
    """The calendar as stored. Raises IncompleteCalendar when a stored year lacks days."""
    return WorkCalendar(CalendarDay.model_construct(**dict(r)) for r in await conn.fetch(ALL_DAYS))


async def set_day(conn: Any, day: date, is_workday: bool, note: str) -> CalendarDay:
    """An operator's correction of one stored day; its source becomes 'operator', so a later seed keeps it.

    Only days of stored years can be edited (a year is added whole, by `seed`). Raises InvalidInput.
    Callers holding a loaded `WorkCalendar` must load it again: derived due dates change with it.
    """
    note = note.strip()
    problems: list[dict[str, str]] = []
    if isinstance(day, datetime):
        problems.append({"field": "day", "message": "应为日期（年-月-日）", "type": "date_type"})
    if len(note) > NOTE_MAX_CHARS:
        problems.append(
            {"field": "note", "message": f"备注不能超过 {NOTE_MAX_CHARS} 个字", "type": "string_too_long"}
        )
    if any(not ch.isprintable() for ch in note):
        problems.append({"field": "note", "message": "备注不能含有控制字符或换行", "type": "invalid"})
    if problems:
        raise InvalidInput(fields=problems)
    row = await conn.fetchrow(UPDATE_DAY, day, is_workday, note, OPERATOR_SOURCE)
    if row is None:
        raise InvalidInput(
            f"工作日历尚未包含 {day.year} 年，无法修改该日",
            fields=[{"field": "day", "message": f"工作日历尚未包含 {day.year} 年", "type": "not_covered"}],
        )
    return CalendarDay(**dict(row))
