"""Bid session routes: thin; parse, authorise (declared, then `access.py`), call the actor or service,
shape."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from uuid import UUID

from starlette.requests import Request
from starlette.websockets import WebSocket

from actors.bid.actor import bid_address
from actors.bid.messages import CreateBidSession, GetBidSession, RecordAnnotation, ScheduleReminder
from actors.bid.state import BidView
from server.bids.access import MANAGE, access_as_organiser, access_bid
from server.bids.models import AnnotationIn, BidIn, BidList, BidOut, ReminderIn
from server.bids.service import expert_specs, list_bids
from server.errors import NotFound
from server.live import since_of, stream_actor
from server.routing import ApiRoute, RouteTable, WsRoute, client_ip, current_user, holds, require_user
from server.runtime import runtime
from server.security.masking import mask_name


def _out(view: BidView) -> BidOut:
    return BidOut.model_validate(view.model_dump())


async def create_bid(request: Request, body: BidIn) -> BidOut:
    """An organiser sets up a session of their own unit with its experts."""
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        experts = await expert_specs(conn, rt.identity.pii, rt.identity.acl_key, body.expert_ids)
    msg = CreateBidSession(
        name=body.name, org_id=user.org_id, org_name=user.org_name, created_by=user.id, experts=experts,
        actor_login=user.login, ip=client_ip(request),
    )  # fmt: skip
    return _out(await rt.actors.ref(bid_address(uuid.uuid4())).ask(msg, rt.settings.ask_timeout_s))


async def get_bids(request: Request) -> BidList:
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        return BidList(items=await list_bids(conn, user, manage=await holds(request, MANAGE)))


async def get_bid(request: Request) -> BidOut:
    user = require_user(request)
    rt = runtime(request)
    bid_id: UUID = request.path_params["bid_id"]
    async with rt.pool.acquire() as conn:
        await access_bid(conn, user, bid_id, manage=await holds(request, MANAGE))
    return _out(await rt.actors.ref(bid_address(bid_id)).ask(GetBidSession(), rt.settings.ask_timeout_s))


async def record_annotation(request: Request, body: AnnotationIn) -> BidOut:
    """An expert of the session records one of their own annotations as open or done (idempotent)."""
    user = require_user(request)
    rt = runtime(request)
    bid_id: UUID = request.path_params["bid_id"]
    async with rt.pool.acquire() as conn:
        access = await access_bid(conn, user, bid_id, manage=await holds(request, MANAGE))
    if not access.expert:  # object-level, like a session one may not see: 404, not 403
        raise NotFound("您不是该评标会议的评审专家")
    msg = RecordAnnotation(
        expert_id=user.id, annotation_id=request.path_params["annotation_id"], open=body.open,
        actor_login=user.login, ip=client_ip(request),
    )  # fmt: skip
    return _out(await rt.actors.ref(bid_address(bid_id)).ask(msg, rt.settings.ask_timeout_s))


async def schedule_reminder(request: Request, body: ReminderIn) -> BidOut:
    """An organiser schedules a reminder to the experts who still have unfinished annotations then."""
    user = require_user(request)
    rt = runtime(request)
    bid_id: UUID = request.path_params["bid_id"]
    async with rt.pool.acquire() as conn:
        await access_as_organiser(conn, user, bid_id, manage=True)  # the route requires MANAGE
    msg = ScheduleReminder(at=body.at, by=user.id, actor_login=user.login, ip=client_ip(request))
    return _out(await rt.actors.ref(bid_address(bid_id)).ask(msg, rt.settings.ask_timeout_s))


async def bid_events(websocket: WebSocket) -> Awaitable[None]:
    """The session's live stream; the connection is journalled as present (masked name) while open."""
    user = await current_user(websocket)
    assert user is not None  # the route's permission admitted the user
    rt = runtime(websocket)
    bid_id: UUID = websocket.path_params["bid_id"]
    since = since_of(websocket)
    async with rt.pool.acquire() as conn:
        await access_bid(conn, user, bid_id, manage=await holds(websocket, MANAGE))
    presence = (user.id, mask_name(user.display_name))
    return stream_actor(websocket, rt.actors, rt.live, bid_address(bid_id), since, presence=presence)


ROUTES = RouteTable(
    api=[
        ApiRoute(
            "POST",
            "/api/v1/bids",
            create_bid,
            "bid.manage",
            BidOut,
            BidIn,
            201,
            summary="组织评标会议",
            tags=("bids",),
        ),
        ApiRoute(
            "GET", "/api/v1/bids", get_bids, "bid.read", BidList, summary="可见评标会议列表", tags=("bids",)
        ),
        ApiRoute(
            "GET",
            "/api/v1/bids/{bid_id:uuid}",
            get_bid,
            "bid.read",
            BidOut,
            summary="评标会议实时状态",
            tags=("bids",),
        ),
        ApiRoute(
            "PUT",
            "/api/v1/bids/{bid_id:uuid}/annotations/{annotation_id:uuid}",
            record_annotation,
            "bid.read",
            BidOut,
            AnnotationIn,
            summary="记录本人批注的处理状态",
            tags=("bids",),
        ),
        ApiRoute(
            "POST",
            "/api/v1/bids/{bid_id:uuid}/reminders",
            schedule_reminder,
            "bid.manage",
            BidOut,
            ReminderIn,
            summary="定时提醒未完成批注的专家",
            tags=("bids",),
        ),
    ],
    sockets=[WsRoute("/ws/bids/{bid_id:uuid}", bid_events, "bid.read")],
)
