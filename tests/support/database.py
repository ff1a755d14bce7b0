"""A database and a Redis key space of their own, for a test session or a load-test stack: created,
migrated and seeded with the demo accounts, then dropped again.

Must not: touch any other database or any Redis key outside the given prefix (and arq's keys of it).
"""

from __future__ import annotations

from redis.asyncio import Redis

from server import db
from server.identity.acl import ACL_KEY
from server.identity.pii import Pii
from server.keystore import KeyRing
from server.migrations import migrate
from server.seed import seed_accounts


async def prepare_database(server_url: str, name: str, keys: KeyRing, password: str) -> str:
    """Create, migrate and seed database `name`; returns its URL. The demo accounts' personal data is
    sealed and their roles MACed with `keys`, which the server must be pointed at too."""
    await db.ensure_database(server_url, name)
    url = db.with_database(server_url, name)
    conn = await db.connect(url)
    try:
        await migrate(conn)
        await seed_accounts(conn, Pii(keys), keys.key(ACL_KEY), password)
    finally:
        await conn.close()
    return url


async def drop_redis_prefix(url: str, prefix: str) -> int:
    """Delete our keys, and arq's: arq keeps `arq:job:<job id>`, `arq:result:<job id>`… outside any
    prefix, for up to a day; our job ids start with the queue name, which starts with our prefix."""
    redis = Redis.from_url(url)
    dropped = 0
    try:
        for pattern in (f"{prefix}*", f"arq:*:{prefix}*"):
            async for key in redis.scan_iter(match=pattern, count=1000):
                dropped += await redis.unlink(key)
    finally:
        await redis.aclose()
    return dropped
