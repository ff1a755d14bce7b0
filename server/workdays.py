"""Working-day arithmetic for approval deadlines in China (statutory holidays and make-up workdays).

The one place that knows which dates are working days. Holidays and 调休 make-up workdays come from the
maintained `chinese-calendar` package, which is built from the State Council's yearly notice
(国务院办公厅关于某年部分节假日安排的通知). A date in a year the package does not cover raises
`CalendarNotCovered`: it is never guessed as a plain Monday-to-Friday week.

Counting rule. 行政许可法 §82: its time limits are counted in working days, excluding statutory holidays.
The day the clock starts (受理, acceptance) is not counted and counting starts the next day
(民法典 §201: "开始的当日不计入，自下一日开始计算"). So a limit of n working days accepted on `start` ends
at the end of the n-th working day after `start`. Worked example (domain research §1.3): accepted Thu
2026-09-24, 7 working days → Mon 2026-10-12 (skips 9/25-27 and 10/1-7, counts make-up Sat 10/10).

Dates are local dates in Asia/Shanghai; convert before calling. Passing a `datetime` is refused, because a
UTC datetime's date is a day off for eight hours of every day.

Must not: read the clock (callers pass `today`), touch the database, or know about projects.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from functools import cache
from types import MappingProxyType
from typing import ClassVar, Final, Literal

import chinese_calendar

from server.errors import TongbanError

DeadlineState = Literal["on_time", "due_soon", "overdue"]

# "Yellow 3 days before the deadline" (domain research §1.3): counted in working days, so a warning
# before a long holiday comes early enough in calendar days.
DUE_SOON_WORKDAYS: Final = 3

DEADLINE_LABELS: Final[Mapping[DeadlineState, str]] = MappingProxyType(
    {"on_time": "正常", "due_soon": "即将到期", "overdue": "已超期"}
)

# The package's own bounds (it raises NotImplementedError outside them); read once from its data.
FIRST_COVERED_YEAR: Final[int] = min(chinese_calendar.holidays).year
LAST_COVERED_YEAR: Final[int] = max(chinese_calendar.holidays).year

_ONE_DAY: Final = timedelta(days=1)


class CalendarNotCovered(TongbanError):
    """A date falls in a year whose holiday arrangement the installed calendar package does not have.

    Nothing a user can do fixes it: an operator must upgrade `chinese-calendar` (the State Council publishes
    the next year's arrangement each November).
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "calendar_not_covered"
    message: ClassVar[str] = "节假日日历未覆盖该年份，请联系管理员更新日历包 chinese-calendar"

    def __init__(self, day: date, covered_years: Collection[int] | None = None) -> None:
        """`covered_years`: the years of a stored calendar (server.approval.calendar) that lacks `day`;
        without it, the installed package's years."""
        if covered_years is None:
            super().__init__(
                f"节假日日历未覆盖 {day.year} 年（现有 {FIRST_COVERED_YEAR}–{LAST_COVERED_YEAR} 年），"
                "无法计算工作日，请联系管理员更新日历包 chinese-calendar",
                year=day.year,
                first_covered_year=FIRST_COVERED_YEAR,
                last_covered_year=LAST_COVERED_YEAR,
            )
            return
        years = sorted(covered_years)
        super().__init__(
            f"工作日历未覆盖 {day.year} 年（现有 {_year_runs(years) or '无'}），无法计算工作日，"
            "请联系管理员更新工作日历（升级日历包 chinese-calendar 后重新导入）",
            year=day.year,
            first_covered_year=years[0] if years else None,
            last_covered_year=years[-1] if years else None,
            covered_years=years,
        )


def _year_runs(years: list[int]) -> str:
    """Sorted years as runs for a message: 2004–2026 年, or 2004–2020、2022–2026 年; empty for none."""
    runs: list[list[int]] = []
    for year in years:
        if runs and runs[-1][1] == year - 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    if not runs:
        return ""
    return "、".join(str(a) if a == b else f"{a}–{b}" for a, b in runs) + " 年"


def _local(day: date) -> date:
    if isinstance(day, datetime):
        raise TypeError("pass a local date in Asia/Shanghai, not a datetime")
    return day


def _covered(day: date) -> date:
    if not FIRST_COVERED_YEAR <= _local(day).year <= LAST_COVERED_YEAR:
        raise CalendarNotCovered(day)
    return day


def is_workday(day: date) -> bool:
    """True for Monday to Friday that is not a statutory holiday, and for a make-up workday (调休上班)."""
    return _package_says_workday(_covered(day))


@cache  # bounded: only covered dates reach it (about 365 per covered year); the package takes ~30 µs a call
def _package_says_workday(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def add_workdays(start: date, n: int) -> date:
    """The last day of a limit of `n` working days that starts on `start` (itself not counted).

    `start` need not be a working day. For n ≥ 1 the result is always a working day; n = 0 returns `start`.
    Raises ValueError for negative n (use `workdays_before`), CalendarNotCovered past the package's data.
    """
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}; use workdays_before to count backwards")
    day = _covered(start)
    remaining = n
    while remaining:
        day += _ONE_DAY
        if is_workday(day):
            remaining -= 1
    return day


def workdays_between(start: date, end: date) -> int:
    """The number of working days after `start` up to and including `end`.

    The inverse of `add_workdays`: `workdays_between(d, add_workdays(d, n)) == n`. When `end` is before
    `start` the count is negative (`-workdays_between(end, start)`), e.g. how many working days overdue.
    """
    if end < start:
        return -workdays_between(end, start)
    _covered(start)
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        count += is_workday(day)
    return count


def workdays_before(deadline: date, n: int) -> date:
    """The n-th working day before `deadline` (which is not counted); n = 0 returns `deadline`.

    For a working day d, `workdays_before(add_workdays(d, n), n) == d`. Raises ValueError for negative n.
    """
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}; use add_workdays to count forwards")
    day = _covered(deadline)
    remaining = n
    while remaining:
        day -= _ONE_DAY
        if is_workday(day):
            remaining -= 1
    return day


def deadline_state(due_on: date, today: date) -> DeadlineState:
    """Where a task due at the end of `due_on` stands on `today`.

    Overdue from the day after `due_on`. Due soon once at most DUE_SOON_WORKDAYS working days are left
    after today (`workdays_between(today, due_on) <= 3`), the due day itself included; for a `due_on` that
    is a working day this starts on `workdays_before(due_on, DUE_SOON_WORKDAYS)`. Only an overdue answer
    needs no calendar data.
    """
    if today > due_on:
        _local(today)  # needs no calendar: an overdue task stays overdue after the data runs out
        return "overdue"
    left = 0
    day = _covered(today)
    while day < due_on:  # stops early: a far-off deadline costs a few steps, not a walk to it
        day += _ONE_DAY
        left += is_workday(day)
        if left > DUE_SOON_WORKDAYS:
            return "on_time"
    return "due_soon"
