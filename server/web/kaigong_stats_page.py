"""The administrators' statistics page of 开工一件事 (`/admin/kaigong/stats`): cases by item and department,
mean and P90 handling time in working days, overdue counts, over a date range. A shell over
`GET /api/v1/kaigong/stats` (`static/kaigong_stats.js`).
Must not: compute anything itself (the statistics query does).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.approval.access import STATS
from server.routing import PageRoute, RouteTable
from server.web.layout import page_context
from server.web.templating import templates


async def stats_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "kaigong_stats.html", await page_context(request))


ROUTES = RouteTable(pages=[PageRoute("/admin/kaigong/stats", stats_page, STATS)])
