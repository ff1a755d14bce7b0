"""Where PostgreSQL and Redis are: the configured URLs, or the embedded servers under `var_dir`.

Must not: be called on a request path (it may start servers and create a database).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from server import db
from server.config import Settings
from server.services import ensure_services


@dataclass(frozen=True)
class Urls:
    database: str
    redis: str


async def resolve_urls(settings: Settings) -> Urls:
    """The URLs this process uses; unset ones point at the embedded servers, started if needed, and the
    embedded server's `tongban` database is created on first use."""
    if settings.database_url and settings.redis_url:
        return Urls(settings.database_url, settings.redis_url)
    found = await asyncio.to_thread(
        ensure_services, settings.database_url, settings.redis_url, settings.var_path
    )
    database = settings.database_url
    if database is None:
        await db.ensure_database(found.database_url, db.APP_DATABASE)
        database = db.with_database(found.database_url, db.APP_DATABASE)
    return Urls(database, settings.redis_url or found.redis_url)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
