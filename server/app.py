"""The Starlette application: the one place where routes, middleware, errors and the lifespan meet.

The lifespan opens the PostgreSQL pool, Redis, the arq pool, the actor system and the actor inbox,
and closes them in reverse. Must not: hold handlers or business rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from actors.hub import Hub
from actors.inbox import InboxConsumer
from actors.kinds import ACTOR_KINDS, INBOX_MESSAGES
from actors.runtime import ActorSystem, RuntimeConfig
from server import db
from server.audit.service import AUDIT_KEY
from server.config import Settings, get_settings
from server.connections import redacted, resolve_urls
from server.errors import DatabaseUnavailable, RedisUnavailable, TongbanError
from server.files.locks import UploadLocks
from server.files.storage import LocalStorage
from server.files.uploads import Uploads
from server.identity.context import open_identity
from server.keystore import KeyRing
from server.live import Live
from server.middleware import RequestContext, SecurityHeaders
from server.openapi import openapi_document
from server.permissions import PUBLIC
from server.routing import PageRoute, RouteTable, to_starlette
from server.runtime import Runtime

logger = logging.getLogger(__name__)

API_VERSION = "0.1.0"
STATIC_DIR = Path(__file__).parent / "web" / "static"
DB_DOWN = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError)


class StartupError(RuntimeError):
    """A service the server needs is unreachable at start; the message names it."""


@dataclass(frozen=True)
class ActorDeps:
    pool: Any
    arq: ArqRedis
    settings: Settings
    keys: KeyRing


def route_table() -> RouteTable:
    from server.approval.calendar_routes import ROUTES as workday_calendar
    from server.approval.case_routes import ROUTES as kaigong_cases
    from server.approval.catalogue_routes import ROUTES as approval_catalogue
    from server.approval.column_routes import ROUTES as kaigong_column
    from server.approval.form_routes import ROUTES as kaigong_form
    from server.approval.material_routes import ROUTES as kaigong_materials
    from server.audit.routes import ROUTES as audit
    from server.bids.routes import ROUTES as bids
    from server.bim.check_routes import ROUTES as bim_checks
    from server.bim.routes import ROUTES as bim_rules
    from server.collab.routes import ROUTES as collab
    from server.deliverables.routes import ROUTES as deliverables
    from server.files.routes import ROUTES as files
    from server.files.tus import ROUTES as tus
    from server.health import ROUTES as health
    from server.identity.admin_routes import ROUTES as identity_admin
    from server.identity.org_routes import ROUTES as identity_orgs
    from server.identity.routes import ROUTES as identity
    from server.identity.token_routes import ROUTES as identity_tokens
    from server.projects.routes import ROUTES as projects
    from server.web.pages import ROUTES as pages

    table = RouteTable()
    for part in (
        health,
        identity,
        identity_admin,
        identity_orgs,
        identity_tokens,
        projects,
        bids,
        bim_rules,
        collab,
        files,
        tus,
        bim_checks,
        deliverables,
        kaigong_cases,
        kaigong_form,
        kaigong_materials,
        approval_catalogue,
        workday_calendar,
        kaigong_column,
        audit,
        pages,
    ):
        table.extend(part)
    return table


def redis_client(url: str, settings: Settings) -> Redis:
    client: Redis = Redis.from_url(
        url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
        health_check_interval=10,
    )
    return client


def arq_settings(url: str, settings: Settings) -> RedisSettings:
    rs = RedisSettings.from_dsn(url)
    rs.conn_timeout = max(1, int(settings.redis_timeout_s))
    rs.conn_retries = 1
    return rs


async def open_runtime(settings: Settings) -> Runtime:
    urls = await resolve_urls(settings)
    try:
        pool = await db.create_pool(
            urls.database,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout_s=settings.db_timeout_s,
            statement_timeout_s=settings.db_statement_timeout_s,
        )
    except (*DB_DOWN, TimeoutError) as exc:
        raise StartupError(f"PostgreSQL is not reachable at {redacted(urls.database)}: {exc}") from exc
    redis = redis_client(urls.redis, settings)
    try:
        async with asyncio.timeout(settings.redis_timeout_s * 2):
            await redis.ping()
        arq = await create_pool(arq_settings(urls.redis, settings), default_queue_name=settings.arq_queue)
    except (RedisError, OSError, TimeoutError) as exc:
        await pool.close()
        await redis.aclose()
        raise StartupError(f"Redis is not reachable at {redacted(urls.redis)}: {exc}") from exc
    keys = KeyRing(settings.keys_path)
    actors = ActorSystem(
        ActorDeps(pool=pool, arq=arq, settings=settings, keys=keys),
        redis,
        settings.redis_prefix,
        runtime_config(settings),
        transient=(*DB_DOWN, RedisError),
    )
    for actor_type in ACTOR_KINDS:
        actors.register(actor_type)
    try:
        parts = await open_identity(settings, pool, redis, keys)
        await actors.start()
    except (*DB_DOWN, RedisError) as exc:
        await close_connections(pool, redis, arq)
        raise StartupError(f"could not load the permission table or start the actors: {exc}") from exc
    hub = Hub(actors)
    live = Live(hub, settings)
    live.start()
    files = LocalStorage(settings.files_path)
    locks = UploadLocks(redis, settings.redis_prefix, actors.node_id, actors.leases.alive_prefix)
    uploads = Uploads(pool, files, locks, settings, keys.key(AUDIT_KEY), arq)
    return Runtime(
        settings, pool, redis, arq, actors, urls.database, urls.redis, keys, parts, hub, live, files, uploads
    )


def tune_gc() -> None:
    """With 10,000 websockets the heap holds millions of objects, and a full collection of them stops
    the event loop for a second or more. Startup objects (modules, tables) are never garbage: freeze
    them out of every collection; collect the young generation less often and the old one rarely.
    Connections free their objects by reference counting (no cycles), so little waits for the GC."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


def runtime_config(settings: Settings) -> RuntimeConfig:
    return RuntimeConfig(
        lease_ttl_s=settings.actor_lease_ttl_s,
        idle_s=settings.actor_idle_s,
        timer_poll_s=settings.timer_poll_s,
        ask_timeout_s=settings.ask_timeout_s,
        node_id=settings.node_id,
    )


async def close_connections(pool: Any, redis: Redis, arq: ArqRedis) -> None:
    await arq.aclose()
    await redis.aclose()
    await pool.close()


async def close_runtime(rt: Runtime) -> None:
    await rt.live.stop()
    await rt.hub.stop()
    await rt.actors.stop()
    await rt.identity_parts.aclose()
    await close_connections(rt.pool, rt.redis, rt.arq)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    rt = await open_runtime(settings)
    app.state.runtime = rt
    tune_gc()
    inbox = InboxConsumer(rt.redis, settings.redis_prefix, rt.actors, INBOX_MESSAGES, settings.ask_timeout_s)
    inbox_task = asyncio.create_task(inbox.run(), name="actor-inbox")
    logger.info(
        "server.started", extra={"database": redacted(rt.database_url), "redis": redacted(rt.redis_url)}
    )
    try:
        yield
    finally:
        inbox_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await inbox_task
        await close_runtime(rt)
        logger.info("server.stopped")


def error_response(status: int, code: str, message: str, **data: object) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **data}}, status_code=status)


async def tongban_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TongbanError)
    if exc.status >= 500:
        logger.warning("http.unavailable", extra={"code": exc.code})
    return error_response(exc.status, exc.code, exc.detail, **exc.data)


_HTTP_CODES = {404: ("not_found", "未找到该地址"), 405: ("method_not_allowed", "不支持该请求方法")}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "请求无法处理"))
    response = error_response(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def redis_down(request: Request, exc: Exception) -> Response:
    return await tongban_error(request, RedisUnavailable())


async def database_down(request: Request, exc: Exception) -> Response:
    return await tongban_error(request, DatabaseUnavailable())


async def crash(request: Request, exc: Exception) -> Response:
    logger.error("http.crash", exc_info=exc)
    return error_response(500, "internal_error", "服务器内部错误")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    table = route_table()
    document = openapi_document(table.api, version=API_VERSION, raw=table.raw)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(document)

    table.pages.append(PageRoute("/openapi.json", openapi_json, PUBLIC))
    routes: list[BaseRoute] = [
        *to_starlette(table),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    exception_handlers: dict[Any, Any] = {
        TongbanError: tongban_error,
        HTTPException: http_error,
        RedisError: redis_down,
        **dict.fromkeys(DB_DOWN, database_down),
        Exception: crash,
    }
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestContext), Middleware(SecurityHeaders)],  # outermost first
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.route_table = table
    return app
