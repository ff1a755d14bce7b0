"""One writer per upload at a time, across every server node: the lock a tus PATCH holds while it
streams, so that two concurrent PATCHes to one upload are refused (423), never interleaved.

The lock is a Redis key naming the node that holds it and a random token. It is free when absent or
when its node's liveness lease (actors/lease.py) has lapsed or it is this node's (whose holders are
known in memory), so a node killed mid-PATCH does not
block the client's resume for longer than that lease's TTL; a long expiry guards against leaks.
Must not: be held across anything but the streaming of one request body.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from redis.asyncio import Redis

from server.errors import Locked

SAFETY_EXPIRY_MS = 6 * 3600 * 1000

TAKE = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local node = string.match(cur, '^(%S+)')
  if node ~= ARGV[4] and redis.call('EXISTS', ARGV[3] .. node) == 1 then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
GIVE_BACK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class UploadLocks:
    def __init__(self, redis: Redis, prefix: str, node_id: str, alive_prefix: str) -> None:
        self.prefix = prefix
        self.node_id = node_id
        self.alive_prefix = alive_prefix
        self._take: Any = redis.register_script(TAKE)
        self._give_back: Any = redis.register_script(GIVE_BACK)
        self._local: set[UUID] = set()  # this node's holders (the Redis value names the node only)

    def _key(self, upload_id: UUID) -> str:
        return f"{self.prefix}upload-lock:{upload_id}"

    @asynccontextmanager
    async def hold(self, upload_id: UUID) -> AsyncIterator[None]:
        if upload_id in self._local:
            raise Locked()
        self._local.add(upload_id)
        value = f"{self.node_id} {secrets.token_hex(8)}"
        try:
            if not await self._take(
                keys=[self._key(upload_id)], args=[value, SAFETY_EXPIRY_MS, self.alive_prefix, self.node_id]
            ):
                raise Locked()
            try:
                yield
            finally:
                await self._give_back(keys=[self._key(upload_id)], args=[value])
        finally:
            self._local.discard(upload_id)
