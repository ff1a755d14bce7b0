"""Routes of the working-day calendar (工作日历): anyone logged in reads a year (the pages show holidays
and make-up workdays); an administrator corrects a day when the State Council's notice differs from the
shipped data (audited; this node counts with the new day at once, the others within
`server.approval.calendars.REFRESH_S`). Thin: parse, authorise (declared permission), call, shape.
Must not: count working days (`server.approval.calendar` does).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from starlette.requests import Request

from server.approval import calendar, calendars
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import InvalidInput
from server.permissions import AUTHENTICATED
from server.routing import ApiRoute, RouteTable, client_ip, require_user
from server.runtime import runtime

MANAGE = "calendar.manage"
TAGS = ("calendar",)


class DayOut(BaseModel):
    day: date
    is_workday: bool
    note: str
    source: str


class YearOut(BaseModel):
    year: int
    covered: bool
    days: list[DayOut]
    workdays: int


class DayIn(BaseModel):
    is_workday: bool
    note: str = Field(default="", max_length=60)


async def get_year(request: Request) -> YearOut:
    year: int = request.path_params["year"]
    cal = await calendars.current_calendar(runtime(request).pool)
    if not cal.covers(year):
        return YearOut(year=year, covered=False, days=[], workdays=0)
    first = date(year, 1, 1)
    days = [
        cal.entry(date.fromordinal(first.toordinal() + n)) for n in range((date(year + 1, 1, 1) - first).days)
    ]
    return YearOut(year=year, covered=True, days=[DayOut(**d.model_dump()) for d in days],
                   workdays=sum(d.is_workday for d in days))  # fmt: skip


async def set_day(request: Request, body: DayIn) -> DayOut:
    user = require_user(request)
    rt = runtime(request)
    try:
        day = date.fromisoformat(request.path_params["day"])
    except ValueError as exc:
        raise InvalidInput(
            "日期格式应为 年-月-日", fields=[{"field": "day", "message": "格式错误", "type": "invalid"}]
        ) from exc
    async with rt.pool.acquire() as conn, conn.transaction():
        changed = await calendar.set_day(conn, day, body.is_workday, body.note)
        await audit.append(conn, rt.keys.key(audit.AUDIT_KEY), AuditRecord(
            action="calendar.set_day", actor_id=user.id, actor_login=user.login, org_id=user.org_id,
            ip=client_ip(request), target=f"calendar:{day.isoformat()}",
            detail={"is_workday": body.is_workday, "note": changed.note},
        ))  # fmt: skip
    calendars.forget()
    return DayOut(**changed.model_dump())


ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/calendar/{year:int}", get_year, AUTHENTICATED, YearOut,
                 summary="某年的工作日历（节假日、调休上班日）", tags=TAGS),
        ApiRoute("PUT", "/api/v1/admin/calendar/{day:str}", set_day, MANAGE, DayOut, body=DayIn,
                 summary="更正某一天是否为工作日（依国务院办公厅通知）", tags=TAGS),
    ]
)  # fmt: skip
