"""Demo login (until the identity issue replaces it), logout and "who am I"."""

from __future__ import annotations

from starlette.requests import Request

from server.audit.service import AUDIT_KEY
from server.errors import Forbidden, NotFound
from server.identity.models import DevLoginIn, LoggedOut, SessionOut
from server.identity.service import demo_login, record_logout
from server.identity.sessions import COOKIE
from server.permissions import AUTHENTICATED, PUBLIC
from server.routing import ApiRoute, RouteTable, client_ip, current_session, require_user
from server.runtime import runtime


async def dev_login(request: Request, body: DevLoginIn) -> SessionOut:
    rt = runtime(request)
    if not rt.settings.dev_login:
        raise Forbidden("演示登录已关闭")
    async with rt.pool.acquire() as conn:
        user = await demo_login(conn, rt.keys.key(AUDIT_KEY), body.login, client_ip(request))
    if user is None:
        raise NotFound("没有这个演示账号")
    cookie, session = await rt.sessions.open(user)
    request.state.set_cookie = cookie
    return SessionOut(user=user, csrf_token=session.csrf)


async def logout(request: Request) -> LoggedOut:
    rt = runtime(request)
    user = require_user(request)
    await rt.sessions.close(request.cookies[COOKIE])
    async with rt.pool.acquire() as conn:
        await record_logout(conn, rt.keys.key(AUDIT_KEY), user, client_ip(request), everywhere=False)
    request.state.set_cookie = ""
    return LoggedOut()


async def logout_everywhere(request: Request) -> LoggedOut:
    rt = runtime(request)
    user = require_user(request)
    closed = await rt.sessions.close_all(user.id)
    async with rt.pool.acquire() as conn:
        await record_logout(conn, rt.keys.key(AUDIT_KEY), user, client_ip(request), everywhere=True)
    request.state.set_cookie = ""
    return LoggedOut(sessions_closed=closed)


async def me(request: Request) -> SessionOut:
    session = await current_session(request)
    assert session is not None  # the route's permission admitted it
    return SessionOut(user=session.user, csrf_token=session.csrf)


ROUTES = RouteTable(
    api=[
        ApiRoute("POST", "/api/v1/dev/login", dev_login, PUBLIC, SessionOut, DevLoginIn,
                 summary="演示账号登录", tags=("identity",)),
        ApiRoute("POST", "/api/v1/logout", logout, AUTHENTICATED, LoggedOut,
                 summary="退出登录", tags=("identity",)),
        ApiRoute("POST", "/api/v1/logout/everywhere", logout_everywhere, AUTHENTICATED, LoggedOut,
                 summary="退出全部设备上的登录", tags=("identity",)),
        ApiRoute("GET", "/api/v1/me", me, AUTHENTICATED, SessionOut, summary="当前用户", tags=("identity",)),
    ]
)  # fmt: skip
