"""The typed route layer: every HTTP route and websocket declares its permission, and API routes
declare their request and response models, from which `server.openapi` builds the document.

A route handler receives the request and its validated body and returns a response model; this
module reads and limits the body, parses JSON, checks the permission and shapes the response.
Must not: hold business rules or SQL.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from server.errors import (
    CsrfFailed,
    Forbidden,
    InvalidInput,
    MalformedJson,
    PasswordExpired,
    PayloadTooLarge,
    TokenScope,
    TongbanError,
    Unauthenticated,
    UnsupportedMediaType,
)
from server.identity import tokens
from server.identity.models import CurrentUser
from server.identity.sessions import COOKIE, CSRF_HEADER, Session, apply_session_cookie
from server.permissions import AUTHENTICATED, PERMISSIONS, PUBLIC
from server.runtime import runtime
from server.web.templating import error_page

ApiHandler = Callable[..., Awaitable[BaseModel]]
PageHandler = Callable[[Request], Awaitable[Response]]
RawHandler = Callable[[Request], Awaitable[Response]]
# A websocket handler checks the request (raising a TongbanError refuses the socket with 4000 + status)
# and returns the coroutine that serves it: its own frame, with the user and whatever it looked up, is
# gone while the socket lives.
WsHandler = Callable[[WebSocket], Awaitable[Awaitable[None] | None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PATH_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")


def path_params(path: str) -> list[tuple[str, str]]:
    """`/a/{x:uuid}/{y}` → [("x", "uuid"), ("y", "str")]."""
    return [(m.group(1), m.group(2) or "str") for m in _PATH_PARAM.finditer(path)]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    handler: ApiHandler
    permission: str
    response: type[BaseModel]
    body: type[BaseModel] | None = None
    status: int = 200
    summary: str = ""
    tags: tuple[str, ...] = ()
    query: type[BaseModel] | None = None  # query-string parameters, validated like a body

    def __post_init__(self) -> None:
        if self.permission not in PERMISSIONS:
            raise ValueError(f"route {self.method} {self.path} names unknown permission {self.permission!r}")

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return path_params(self.path)


@dataclass(frozen=True)
class PageRoute:
    path: str
    handler: PageHandler
    permission: str
    name: str | None = None


@dataclass(frozen=True)
class RawRoute:
    """A route whose handler reads the request and builds the response itself: file transfers (tus
    uploads, downloads, zip packages). The permission, session and CSRF checks are an API route's;
    errors answer the JSON error shape, with `error_headers` added (tus clients need Tus-Resumable)."""

    method: str
    path: str
    handler: RawHandler
    permission: str
    summary: str = ""
    error_headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.permission not in PERMISSIONS:
            raise ValueError(f"route {self.method} {self.path} names unknown permission {self.permission!r}")

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return path_params(self.path)


@dataclass(frozen=True)
class WsRoute:
    path: str
    handler: WsHandler
    permission: str


@dataclass
class RouteTable:
    api: list[ApiRoute] = field(default_factory=list)
    pages: list[PageRoute] = field(default_factory=list)
    sockets: list[WsRoute] = field(default_factory=list)
    raw: list[RawRoute] = field(default_factory=list)

    def extend(self, other: RouteTable) -> None:
        self.api += other.api
        self.pages += other.pages
        self.sockets += other.sockets
        self.raw += other.raw


async def current_session(conn: HTTPConnection) -> Session | None:
    """The session of this request or websocket, read once and cached on the connection."""
    if "session" in conn.scope.get("state", {}):
        cached: Session | None = conn.state.session
        return cached
    authorization = conn.headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        session = await _token_session(conn, authorization.removeprefix("Bearer ").strip())
    else:
        cookie = conn.cookies.get(COOKIE)
        session = await runtime(conn).sessions.find(cookie) if cookie else None
    conn.state.session = session
    conn.state.user = session.user if session else None
    return session


async def _token_session(conn: HTTPConnection, text: str) -> Session | None:
    identity = runtime(conn).identity
    async with identity.pool.acquire() as db:
        found = await tokens.authenticate(db, runtime(conn).keys.key(tokens.TOKEN_KEY), identity.pii,
                                          identity.acl_key, text)  # fmt: skip
    if found is None:
        return None
    user, scopes = found
    return Session(user=user, csrf="", created_at=datetime.now(UTC), scopes=scopes)


async def current_user(conn: HTTPConnection) -> CurrentUser | None:
    session = await current_session(conn)
    return session.user if session else None


async def holds(conn: HTTPConnection, permission: str) -> bool:
    """Whether the caller's role holds `permission` in the verified permission table."""
    user = await current_user(conn)
    table = await runtime(conn).acl.table()
    return table.role_has(user.role if user else None, permission)


def check_csrf(request: Request, session: Session) -> None:
    """A cookie-authenticated request that changes state must echo its session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise CsrfFailed()


async def authorize(conn: HTTPConnection, permission: str) -> CurrentUser | None:
    """Raise unless the caller holds `permission`; return the caller (None only for public routes)."""
    if permission == PUBLIC:
        return None  # no session lookup: health checks must answer even when Redis is down
    session = await current_session(conn)
    if session is None:
        raise Unauthenticated()
    if not await holds(conn, permission):
        raise Forbidden()
    if session.password_expired and permission != AUTHENTICATED:
        raise PasswordExpired()
    if session.scopes is not None:  # an API token: no CSRF (no cookie), but only within its scopes
        if permission != AUTHENTICATED and permission not in session.scopes:
            raise TokenScope()
    elif isinstance(conn, Request):
        check_csrf(conn, session)
    return session.user


def client_ip(conn: HTTPConnection) -> str | None:
    """The peer address. TLS ends at the gateway, which must pass the client's address on; trusting a
    forwarded header is a deployment setting to add with the gateway (not here: it could be forged)."""
    return conn.client.host if conn.client else None


def require_user(conn: HTTPConnection) -> CurrentUser:
    """The user `authorize` admitted; for handlers of non-public routes."""
    user: CurrentUser | None = conn.state.user
    if user is None:
        raise Unauthenticated()
    return user


async def read_json(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"请求体不能超过 {limit // 1024 // 1024} MB")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"请求体不能超过 {limit // 1024 // 1024} MB")
        chunks.append(chunk)
    try:
        parsed = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson() from exc
    _refuse_control_characters(parsed, "")
    return parsed


# C0 control characters other than tab, newline and carriage return: never meaningful in a form, and
# NUL cannot even be stored in a PostgreSQL text column.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _refuse_control_characters(value: Any, path: str) -> None:
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise InvalidInput("提交的文本中含有不允许的控制字符", fields=[
                {"field": path.lstrip("."), "message": "含有控制字符", "type": "control_character"}
            ])  # fmt: skip
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_control_characters(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_control_characters(item, f"{path}.{index}")


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def _api_endpoint(route: ApiRoute) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        await authorize(request, route.permission)
        args: list[Any] = [request]
        if route.query is not None:
            params = dict(request.query_params)
            _refuse_control_characters(params, "")
            try:
                args.append(route.query.model_validate(params))
            except ValidationError as exc:
                raise InvalidInput(fields=_field_errors(exc)) from exc
        if route.body is not None:
            raw = await read_json(request, runtime(request).settings.max_json_bytes)
            try:
                args.append(route.body.model_validate(raw))
            except ValidationError as exc:
                raise InvalidInput(fields=_field_errors(exc)) from exc
        result = await route.handler(*args)
        response = JSONResponse(result.model_dump(mode="json"), status_code=route.status)
        apply_session_cookie(request, response)
        return response

    endpoint.__name__ = route.handler.__name__
    return endpoint


def _raw_endpoint(route: RawRoute) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            await authorize(request, route.permission)
            response = await route.handler(request)
        except TongbanError as exc:
            response = JSONResponse(
                {"error": {"code": exc.code, "message": exc.detail, **exc.data}}, status_code=exc.status
            )
            response.headers.update(dict(route.error_headers))
        apply_session_cookie(request, response)
        return response

    endpoint.__name__ = route.handler.__name__
    return endpoint


def _page_endpoint(route: PageRoute) -> Callable[[Request], Awaitable[Response]]:
    """Pages answer a person: no login → the login page; any other error → a Chinese HTML page."""

    async def endpoint(request: Request) -> Response:
        try:
            await authorize(request, route.permission)
            return await route.handler(request)
        except Unauthenticated:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        except TongbanError as exc:
            return error_page(request, exc)

    endpoint.__name__ = route.handler.__name__
    return endpoint


async def reject(websocket: WebSocket, error: TongbanError) -> None:
    """Refuse a websocket with close code 4000 + the error's HTTP status (4400, 4401, 4403, 4404…).
    It is accepted first: a close before the handshake would reach the client as a bare HTTP 403."""
    await websocket.accept()
    await websocket.close(code=4000 + error.status, reason=error.code)


def check_origin(websocket: WebSocket) -> None:
    """Browsers send cookies with cross-site websocket handshakes: refuse any Origin but our own host
    (cross-site websocket hijacking). Non-browser clients send no Origin."""
    origin = websocket.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != websocket.headers.get("host"):
        raise Forbidden("不允许跨站连接")


class _WsEndpoint:
    """The ASGI app of one websocket route. An app rather than a function, so Starlette hands it the
    socket without wrapping it in two more closures and frames that would live as long as the socket."""

    def __init__(self, route: WsRoute) -> None:
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        try:
            check_origin(websocket)
            await authorize(websocket, self.route.permission)
            serve = await self.route.handler(websocket)  # its own checks: bad `since`, not visible …
        except TongbanError as exc:  # refused before the socket was served: 4000 + status
            await reject(websocket, exc)
            return
        if serve is not None:
            await serve


def to_starlette(table: RouteTable) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for api in table.api:
        routes.append(Route(api.path, _api_endpoint(api), methods=[api.method]))
    for page in table.pages:
        routes.append(Route(page.path, _page_endpoint(page), methods=["GET"], name=page.name))
    for raw in table.raw:
        routes.append(Route(raw.path, _raw_endpoint(raw), methods=[raw.method]))
    for ws in table.sockets:
        routes.append(WebSocketRoute(ws.path, _WsEndpoint(ws)))
    return routes
