"""Local time in Shanghai, where every deadline is counted: today's date and the start of a day.

Must not: be bypassed by reading `date.today()` (the machine's zone) in domain code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(UTC).astimezone(SHANGHAI).date()


def start_of(day: date) -> datetime:
    """Midnight at the start of `day` in Shanghai, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)
