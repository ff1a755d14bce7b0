"""The BIM model pages (模型检查): a bid session's models (`/bids/{id}/models`: the supplier's upload
panel and the list of checks with their live progress) and one check (`/bim/checks/{id}`: live
progress of the seven stages, then the report grouped by stage and rule, filterable, each finding
linking to its element). The pages are shells: `static/bim_submit.js` and `static/bim_check.js` read
the checks API, follow the check actors' websockets and upload through the tus endpoint.

Must not: decide who may see a check or submit a model; `server.bim.checks` and `server.bids.access`
do, and the API, the websocket and the tus endpoint enforce it again (the page only mirrors
`may_submit` to show or hide the upload panel).
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from actors.bid.actor import bid_address
from actors.bid.messages import GetBidSession
from bim.outcomes import SEVERITY_LABELS
from bim.report import STAGE_LABELS, STAGES
from server import clock
from server.bids.access import MANAGE
from server.bim import checks, rulesets
from server.errors import NotFound
from server.routing import PageRoute, RouteTable, holds, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates

READ: Final = "bim.check.read"
SUBMIT: Final = "bim.submit"
# What the pages' scripts show: one source for labels shared with the report's producer.
LABELS: Final[dict[str, Any]] = {
    "order": list(STAGES),  # the pipeline's order (the labels' keys reach the page sorted)
    "stages": STAGE_LABELS,
    "severities": {int(s): label for s, label in SEVERITY_LABELS.items()},
    "severity_names": {s.name: int(s) for s in SEVERITY_LABELS},
}


def local_time(at: Any) -> str:
    return at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if at else "—"


async def models_page(request: Request) -> Response:
    """The bid's experts and organisers see every check; a supplier (holder of `bim.submit`) may
    open any session it is given the address of, to submit, and sees only its own enterprise's checks."""
    user = require_user(request)
    rt = runtime(request)
    bid_id: UUID = request.path_params["bid_id"]
    may_submit = await holds(request, SUBMIT)
    async with rt.pool.acquire() as conn:
        member = await checks.checks_scope(conn, user, bid_id, manage=await holds(request, MANAGE)) is None
        if not (member or may_submit):
            raise NotFound("评标会议不存在或无权查看")
        pinned = await rulesets.pinned(conn, bid_id)
    bid = await rt.actors.ref(bid_address(bid_id)).ask(GetBidSession(), rt.settings.ask_timeout_s)
    context = await page_context(
        request, bid_id=bid_id, bid_name=bid.name or "评标会议", member=member, pinned=pinned.version,
        may_submit=may_submit, labels=LABELS,
    )  # fmt: skip
    return templates.TemplateResponse(request, "bim_submit.html", context)


async def open_bids_page(request: Request) -> Response:
    """For suppliers: the bid sessions that take models, each linking to its models page."""
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        rows = await checks.open_bids(conn, user.org_id)
    context = await page_context(request, bids=rows, local_time=local_time)
    return templates.TemplateResponse(request, "bim_bids.html", context)


async def check_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    check_id: UUID = request.path_params["check_id"]
    async with rt.pool.acquire() as conn:
        found = await checks.access_check(conn, user, check_id, manage=await holds(request, MANAGE))
        version = await rulesets.get_version(conn, found.row["rule_set_version_id"])
    context = await page_context(
        request, check=found.row, rule_set=version, labels=LABELS, local_time=local_time,
    )  # fmt: skip
    return templates.TemplateResponse(request, "bim_check.html", context)


ROUTES = RouteTable(
    pages=[
        PageRoute("/bim/bids", open_bids_page, SUBMIT),
        PageRoute("/bids/{bid_id:uuid}/models", models_page, READ),
        PageRoute("/bim/checks/{check_id:uuid}", check_page, READ),
    ]
)
