"""What a running server process holds open: settings, PostgreSQL pool, Redis, arq, the actor system,
its subscription hub, live websocket connections and the file storage.

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

    from actors.hub import Hub
    from actors.runtime import ActorSystem
    from clients.sms.client import DevSmsProvider
    from server.config import Settings
    from server.files.storage import Storage
    from server.files.uploads import Uploads
    from server.identity.acl import PermissionCache
    from server.identity.context import IdentityParts
    from server.identity.service import Identity
    from server.identity.sessions import SessionStore
    from server.keystore import KeyRing
    from server.live import Live


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
    identity_parts: IdentityParts
    hub: Hub
    live: Live
    files: Storage
    uploads: Uploads

    @property
    def identity(self) -> Identity:
        return self.identity_parts.identity

    @property
    def sessions(self) -> SessionStore:
        return self.identity_parts.sessions

    @property
    def acl(self) -> PermissionCache:
        return self.identity_parts.acl

    @property
    def dev_sms(self) -> DevSmsProvider | None:
        return self.identity_parts.dev_sms


def runtime(conn: HTTPConnection) -> Runtime:
    rt: Runtime = conn.app.state.runtime
    return rt
