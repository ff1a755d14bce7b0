"""What a running server process holds open: settings, PostgreSQL pool, Redis, arq, actor system.

Opened and closed only by the lifespan in `server.app`; routes reach it with `runtime(request)`.
Must not: open anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from arq.connections import ArqRedis
    from redis.asyncio import Redis

    from actors.runtime import ActorSystem
    from server.config import Settings
    from server.identity.sessions import SessionStore
    from server.keystore import KeyRing


@dataclass
class Runtime:
    settings: Settings
    pool: Any  # asyncpg.Pool (untyped library)
    redis: Redis
    arq: ArqRedis
    actors: ActorSystem
    database_url: str
    redis_url: str
    keys: KeyRing
    sessions: SessionStore


def runtime(conn: HTTPConnection) -> Runtime:
    rt: Runtime = conn.app.state.runtime
    return rt
