"""The working-day calendar this process counts with: the `workday_calendar` table, seeded from the
`chinese-calendar` package the first time it is found empty, held in memory and read again every few
minutes (an operator's correction reaches every node within `REFRESH_S`; `forget()` makes this node read
it at once).
Must not: count days itself (`server.approval.calendar.WorkCalendar` does).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

from server.approval.calendar import WorkCalendar, load, seed

REFRESH_S: Final = 300.0

_cached: tuple[float, WorkCalendar] | None = None
_lock = asyncio.Lock()


async def current_calendar(pool: Any) -> WorkCalendar:
    global _cached
    if _cached is not None and time.monotonic() - _cached[0] < REFRESH_S:
        return _cached[1]
    async with _lock:
        if _cached is not None and time.monotonic() - _cached[0] < REFRESH_S:
            return _cached[1]
        async with pool.acquire() as conn:
            calendar = await load(conn)
            if not calendar.years:
                await seed(conn)
                calendar = await load(conn)
        _cached = (time.monotonic(), calendar)
        return calendar


def forget() -> None:
    """Read the table again on the next call (after an operator's edit on this node)."""
    global _cached
    _cached = None
