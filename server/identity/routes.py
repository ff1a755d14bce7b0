"""Demo login (until the identity issue replaces it), logout and "who am I"."""

from __future__ import annotations

from starlette.requests import Request

from server.errors import Forbidden, NotFound
from server.identity.models import DevLoginIn, LoggedOut, SessionOut
from server.identity.service import find_user_by_login
from server.identity.sessions import COOKIE, close_session, open_session
from server.permissions import AUTHENTICATED, PUBLIC
from server.routing import ApiRoute, RouteTable, require_user
from server.runtime import runtime


async def dev_login(request: Request, body: DevLoginIn) -> SessionOut:
    rt = runtime(request)
    if not rt.settings.dev_login:
        raise Forbidden("演示登录已关闭")
    async with rt.pool.acquire() as conn:
        user = await find_user_by_login(conn, body.login)
    if user is None:
        raise NotFound("没有这个演示账号")
    token = await open_session(rt.redis, rt.settings.redis_prefix, user, rt.settings.session_ttl_s)
    request.state.set_cookie = token
    return SessionOut(user=user)


async def logout(request: Request) -> LoggedOut:
    rt = runtime(request)
    token = request.cookies.get(COOKIE)
    if token:
        await close_session(rt.redis, rt.settings.redis_prefix, token)
    request.state.set_cookie = ""
    return LoggedOut()


async def me(request: Request) -> SessionOut:
    return SessionOut(user=require_user(request))


ROUTES = RouteTable(
    api=[
        ApiRoute(
            "POST",
            "/api/v1/dev/login",
            dev_login,
            PUBLIC,
            SessionOut,
            DevLoginIn,
            summary="演示账号登录",
            tags=("identity",),
        ),
        ApiRoute("POST", "/api/v1/logout", logout, PUBLIC, LoggedOut, summary="退出登录", tags=("identity",)),
        ApiRoute("GET", "/api/v1/me", me, AUTHENTICATED, SessionOut, summary="当前用户", tags=("identity",)),
    ]
)
