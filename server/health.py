"""Liveness and readiness. `/healthz`: the process answers. `/readyz`: PostgreSQL and Redis answer
within a second and every migration is applied; otherwise 503 naming what is wrong.
Must not: do anything slow or write anything.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel
from starlette.requests import Request

from server.errors import MigrationError, Unavailable
from server.migrations import pending_migrations
from server.permissions import PUBLIC
from server.routing import ApiRoute, RouteTable
from server.runtime import Runtime, runtime

CHECK_TIMEOUT_S = 1.0

CheckState = Literal["ok", "unavailable", "pending_migrations", "changed_migration"]


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, CheckState]


class NotReady(Unavailable):
    code, message = "not_ready", "服务尚未就绪"


async def _database(rt: Runtime) -> CheckState:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), rt.pool.acquire() as conn:
            return "pending_migrations" if await pending_migrations(conn) else "ok"
    except MigrationError:
        return "changed_migration"
    except Exception:
        return "unavailable"


async def _redis(rt: Runtime) -> CheckState:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await rt.redis.ping()
    except Exception:
        return "unavailable"
    return "ok"


async def check_readiness(rt: Runtime) -> dict[str, CheckState]:
    database, redis = await asyncio.gather(_database(rt), _redis(rt))
    return {"database": database, "redis": redis}


async def healthz(request: Request) -> HealthOut:
    return HealthOut()


async def readyz(request: Request) -> ReadyOut:
    checks = await check_readiness(runtime(request))
    if any(state != "ok" for state in checks.values()):
        failing = "、".join(name for name, state in checks.items() if state != "ok")
        raise NotReady(f"服务尚未就绪：{failing}", checks=checks)
    return ReadyOut(checks=checks)


ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/healthz", healthz, PUBLIC, HealthOut, summary="进程存活", tags=("ops",)),
        ApiRoute("GET", "/readyz", readyz, PUBLIC, ReadyOut, summary="服务就绪", tags=("ops",)),
    ]
)
