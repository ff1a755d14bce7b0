"""Routes of BIM model checks: a bid session's checks, one check with its live state, its report
(canonical JSON, the bytes its SM3 names), and the websocket that streams the check actor's progress.
Models are submitted through the tus endpoint (`/files/`, metadata `bid`). Thin: parse, authorise
(declared permission, then `server.bim.checks.access_check`), call, shape.
Must not: hold SQL or decide access itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from actors.check.actor import check_address
from actors.check.messages import GetCheck
from actors.check.state import CheckState
from server.bids.access import MANAGE
from server.bim import checks
from server.errors import NotFound
from server.files.downloads import content_disposition
from server.live import since_of, stream_actor
from server.routing import ApiRoute, RawRoute, RouteTable, WsRoute, current_user, holds, require_user
from server.runtime import runtime

READ = "bim.check.read"
SUBMIT = "bim.submit"
TAGS = ("bim",)


class CheckOut(BaseModel):
    id: UUID
    bid_id: UUID
    org_id: UUID
    org_name: str
    file_name: str
    size: int
    blob_sm3: str
    rule_set_version_id: UUID
    status: str
    report_sm3: str | None
    counts: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    live: CheckState | None = None


class CheckList(BaseModel):
    items: list[CheckOut]


class OpenBidOut(BaseModel):
    id: UUID
    name: str
    org_name: str
    created_at: datetime
    rule_set_name: str
    version: int
    submitted: int  # the caller's enterprise's models submitted to it


class OpenBidList(BaseModel):
    items: list[OpenBidOut]


def _out(row: Any, live: CheckState | None = None) -> CheckOut:
    return CheckOut.model_validate({**dict(row), "live": live})


async def list_bid_checks(request: Request) -> CheckList:
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        rows = await checks.list_checks(
            conn, user, request.path_params["bid_id"], manage=await holds(request, MANAGE)
        )
    return CheckList(items=[_out(r) for r in rows])


async def list_open_bids(request: Request) -> OpenBidList:
    """For suppliers: the bid sessions that take models (a rule set is pinned)."""
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        rows = await checks.open_bids(conn, user.org_id)
    return OpenBidList(items=[OpenBidOut.model_validate(dict(r)) for r in rows])


async def get_check(request: Request) -> CheckOut:
    user = require_user(request)
    rt = runtime(request)
    check_id: UUID = request.path_params["check_id"]
    async with rt.pool.acquire() as conn:
        found = await checks.access_check(conn, user, check_id, manage=await holds(request, MANAGE))
    live = await rt.actors.ref(check_address(check_id)).ask(GetCheck(), rt.settings.ask_timeout_s)
    return _out(found.row, live if live.check_id is not None else None)


async def get_report(request: Request) -> Response:
    """The report's bytes as stored (canonical JSON); its SM3 is the ETag and `X-Report-SM3`."""
    user = require_user(request)
    check_id: UUID = request.path_params["check_id"]
    async with runtime(request).pool.acquire() as conn:
        await checks.access_check(conn, user, check_id, manage=await holds(request, MANAGE))
        body, digest = await checks.report_of(conn, check_id)
    headers = {"ETag": f'"{digest}"', "X-Report-SM3": digest, "Cache-Control": "private, max-age=0"}
    return Response(body, media_type="application/json; charset=utf-8", headers=headers)


EXPORTS = {
    "json": ("application/json; charset=utf-8", "json"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "bcf": ("application/octet-stream", "bcfzip"),
}


async def get_ids_export(request: Request) -> Response:
    """The IDS completeness report of a finished check as JSON, XLSX (汇总, 待补充清单 …) or BCF
    (one topic per element with missing items), made from the stored report: the same bytes each time."""
    user = require_user(request)
    check_id: UUID = request.path_params["check_id"]
    kind: str = request.path_params["kind"]
    if kind not in EXPORTS:
        raise NotFound("不支持的导出格式")
    async with runtime(request).pool.acquire() as conn:
        found = await checks.access_check(conn, user, check_id, manage=await holds(request, MANAGE))
        body, _digest = await checks.report_of(conn, check_id)
    completeness = checks.completeness_of(body)
    media_type, extension = EXPORTS[kind]
    data = await asyncio.to_thread(checks.export_completeness, completeness, kind)
    name = f"{Path(found.row['file_name']).stem}-数据完整性.{extension}"
    headers = {"Content-Disposition": content_disposition(name, f"ids-completeness.{extension}")}
    return Response(data, media_type=media_type, headers=headers)


async def check_events(websocket: WebSocket) -> Awaitable[None] | None:
    user = await current_user(websocket)
    assert user is not None
    rt = runtime(websocket)
    check_id: UUID = websocket.path_params["check_id"]
    async with rt.pool.acquire() as conn:
        await checks.access_check(conn, user, check_id, manage=await holds(websocket, MANAGE))
    return stream_actor(websocket, rt.actors, rt.live, check_address(check_id), since_of(websocket))


ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/bids/{bid_id:uuid}/checks", list_bid_checks, READ, CheckList,
                 summary="评标会议的模型检查（投标单位只见本单位的）", tags=TAGS),
        ApiRoute("GET", "/api/v1/bim/bids", list_open_bids, SUBMIT, OpenBidList,
                 summary="可提交模型的评标会议（已指定规则集）", tags=TAGS),
        ApiRoute("GET", "/api/v1/bim/checks/{check_id:uuid}", get_check, READ, CheckOut,
                 summary="一次模型检查及其实时进度", tags=TAGS),
    ],
    raw=[
        RawRoute("GET", "/api/v1/bim/checks/{check_id:uuid}/report", get_report, READ,
                 summary="模型检查报告（规范化 JSON，可按 SM3 复核）"),
        RawRoute("GET", "/api/v1/bim/checks/{check_id:uuid}/ids.{kind}", get_ids_export, READ,
                 summary="IDS 数据完整性报告导出（json / xlsx / bcf）"),
    ],
    sockets=[WsRoute("/ws/bim/checks/{check_id:uuid}", check_events, READ)],
)  # fmt: skip
