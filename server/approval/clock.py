"""The clock of one item case: when its time limit ends and how it stands on a given day (domain §1.3).

Stored facts only: the acceptance day (受理), the limit in working days, the approved extensions and the
pauses. The due date and the colour are derived from these and the `WorkCalendar`, never stored as the
only truth, so a corrected calendar or a late-recorded pause moves them.

Rules.
- 行政许可法 §82 counts in working days; 民法典 §201: the acceptance day is not counted, counting starts
  the next day.
- 行政许可法 §45: time spent on 听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审 is not counted, and a
  补正 (correction) pauses the construction-permit clock ("自证明文件补正齐全后作相应顺延"). A pause stops
  the count from its start day to its end day, both included; a closed pause resumes the next day. An
  open pause freezes the clock: while it lasts the due date is unknown (None) and the state "paused".
- 行政许可法 §42: an extension, approved by the agency head with a reason, adds working days.
- Yellow ("due_soon") from `days` units before the due date: in working days (the default) the first
  yellow day is the day on which `days` counted working days are left (so pause days do not count
  either); in calendar days it is the due date minus `days`. Red ("overdue") from the day after the
  due date. The due date ends at the end of its day in Asia/Shanghai.

A pause that starts after the count has already ended does not move the due date: an overdue case stays
overdue. For `state`, a pause that starts after `today` has not happened yet and is ignored.

Must not: read the clock (callers pass `today`), do IO, or know about items, projects or departments.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.approval.calendar import DayUnit, WorkCalendar
from server.clock import SHANGHAI
from server.workdays import DEADLINE_LABELS, DUE_SOON_WORKDAYS

ClockState = Literal["on_time", "due_soon", "overdue", "paused"]
PauseKind = Literal[
    "correction", "expert_review", "hearing", "tender", "auction", "inspection", "testing", "quarantine",
    "appraisal",
]  # fmt: skip

PAUSE_LABELS: Final[Mapping[PauseKind, str]] = MappingProxyType(
    {
        "correction": "补正材料",
        "expert_review": "专家评审",
        "hearing": "听证",
        "tender": "招标",
        "auction": "拍卖",
        "inspection": "检验",
        "testing": "检测",
        "quarantine": "检疫",
        "appraisal": "鉴定",
    }
)
STATE_LABELS: Final[Mapping[ClockState, str]] = MappingProxyType(
    {
        "on_time": DEADLINE_LABELS["on_time"],
        "due_soon": DEADLINE_LABELS["due_soon"],
        "overdue": DEADLINE_LABELS["overdue"],
        "paused": "暂停计时",
    }
)

_ONE_DAY: Final = timedelta(days=1)


class Extension(BaseModel):
    """Working days added to the limit (行政许可法 §42: approved by the agency head, with a reason)."""

    model_config = ConfigDict(frozen=True)

    days: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=500)
    approved_by: UUID

    @field_validator("reason")
    @classmethod
    def _reason_is_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("请填写延期理由")
        return value.strip()


class Pause(BaseModel):
    """Days that do not count: from `start` to `end`, both included; `end` None while it lasts."""

    model_config = ConfigDict(frozen=True)

    kind: PauseKind
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Pause:
        if self.end is not None and self.end < self.start:
            raise ValueError("暂停计时的结束日不能早于开始日")
        return self

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Clock(BaseModel):
    """The clock of one item case. Pauses may overlap (their days are not counted twice)."""

    model_config = ConfigDict(frozen=True)

    accepted_on: date
    limit_workdays: int = Field(ge=1)
    extensions: tuple[Extension, ...] = ()
    pauses: tuple[Pause, ...] = ()

    @model_validator(mode="after")
    def _pauses_start_after_acceptance(self) -> Clock:
        for pause in self.pauses:
            if pause.start < self.accepted_on:
                raise ValueError("暂停计时不能早于受理日")
        return self

    @property
    def total_workdays(self) -> int:
        """The limit with its extensions."""
        return self.limit_workdays + sum(e.days for e in self.extensions)

    def due_on(self, cal: WorkCalendar) -> date | None:
        """The last day of the limit (a working day); None while an open pause holds the count."""
        return self._count_end(cal, self.total_workdays)

    def deadline_at(self, cal: WorkCalendar) -> datetime | None:
        """The last instant of the due day in Asia/Shanghai (aware): anything after it is late."""
        due = self.due_on(cal)
        return None if due is None else datetime.combine(due, time.max, tzinfo=SHANGHAI)

    def warn_on(
        self, cal: WorkCalendar, days: int = DUE_SOON_WORKDAYS, unit: DayUnit = "workday"
    ) -> date | None:
        """The first yellow day; the acceptance day when the limit is that short; None while frozen."""
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        due = self.due_on(cal)
        if due is None:
            return None
        if unit == "calendar":
            return max(self.accepted_on, due - timedelta(days=days))
        if days >= self.total_workdays:
            return self.accepted_on
        return self._count_end(cal, self.total_workdays - days)

    def used_workdays(self, cal: WorkCalendar, today: date) -> int:
        """The working days counted from acceptance to `today` included; pause days excluded. It keeps
        growing after the due date (used − total is how far overdue)."""
        used = 0
        for first, last in self._counted_spans():
            if first > today:
                break
            used += cal.workdays_between(first - _ONE_DAY, today if last is None else min(last, today))
        return used

    def remaining_workdays(self, cal: WorkCalendar, today: date) -> int:
        """Working days left after `today` (negative when overdue); counted as the clock counts."""
        return self.total_workdays - self.used_workdays(cal, today)

    def state(
        self, cal: WorkCalendar, today: date, days: int = DUE_SOON_WORKDAYS, unit: DayUnit = "workday"
    ) -> ClockState:
        """How the case stands on `today`. Pauses that start after `today` are not taken into account."""
        clock = self._as_of(today)
        due = clock.due_on(cal)
        if due is None:
            return "paused"
        if today > due:
            return "overdue"
        if any(p.contains(today) for p in clock.pauses):
            return "paused"
        warn = clock.warn_on(cal, days, unit)
        assert warn is not None  # known once the due date is
        return "due_soon" if today >= warn else "on_time"

    def next_change(
        self, cal: WorkCalendar, today: date, days: int = DUE_SOON_WORKDAYS, unit: DayUnit = "workday"
    ) -> date | None:
        """The first day after `today` on which `state` differs from today's: what a durable timer waits
        for. None when nothing recorded will change it: overdue (it stays so) or held by an open pause
        (its end is not known yet; closing it is an event of its own)."""
        now = self.state(cal, today, days, unit)
        if now == "overdue":
            return None
        if now == "paused" and any(p.end is None and p.start <= today for p in self.pauses):
            return None
        day = today
        while True:
            candidates = [c for c in self._boundaries(cal, day, days, unit) if c > day]
            if not candidates:
                return None
            day = min(candidates)
            if self.state(cal, day, days, unit) != now:
                return day

    def _as_of(self, today: date) -> Clock:
        started = tuple(p for p in self.pauses if p.start <= today)
        return self if len(started) == len(self.pauses) else self.model_copy(update={"pauses": started})

    def _boundaries(self, cal: WorkCalendar, day: date, days: int, unit: DayUnit) -> Iterator[date]:
        """The days on which the state may change, seen from `day`: between two of them it is constant."""
        for pause in self.pauses:
            yield pause.start
            if pause.end is not None:
                yield pause.end + _ONE_DAY
        clock = self._as_of(day)
        due = clock.due_on(cal)
        if due is not None:
            yield due + _ONE_DAY
            warn = clock.warn_on(cal, days, unit)
            if warn is not None:
                yield warn

    def _counted_spans(self) -> Iterator[tuple[date, date | None]]:
        """The runs of days that count, in order: from the day after acceptance, between the pauses.
        The last run is open (None) unless an open pause ends the counting for good."""
        first = self.accepted_on + _ONE_DAY
        for start, end in _merged(self.pauses):
            if end is not None and end < first:
                continue
            if start > first:
                yield first, start - _ONE_DAY
            if end is None:
                return
            first = max(first, end + _ONE_DAY)
        yield first, None

    def _count_end(self, cal: WorkCalendar, n: int) -> date | None:
        """The day on which the n-th counted working day ends; None if an open pause comes first."""
        remaining = n
        for first, last in self._counted_spans():
            if last is None:
                return cal.add_workdays(first - _ONE_DAY, remaining)
            available = cal.workdays_between(first - _ONE_DAY, last)
            if available >= remaining:
                return cal.add_workdays(first - _ONE_DAY, remaining)
            remaining -= available
        return None


def _merged(pauses: tuple[Pause, ...]) -> list[tuple[date, date | None]]:
    """The pauses as disjoint runs in order (overlapping or adjacent ones joined; None = still open)."""
    runs: list[tuple[date, date | None]] = []
    for pause in sorted(pauses, key=lambda p: p.start):
        if runs:
            start, end = runs[-1]
            if end is None:
                break
            if pause.start <= end + _ONE_DAY:
                runs[-1] = (start, None if pause.end is None else max(end, pause.end))
                continue
        runs.append((pause.start, pause.end))
    return runs
