"""Login-failure lockout (等保 身份鉴别 b): after `max_failures` failed logins for one login name within
`lock_s`, that name is locked for `lock_s`. Counted per name whether or not the account exists, so
the lock reveals nothing about which accounts exist.

Must not: count per IP only (a botnet spreads over addresses) or store the password tried.
"""

from __future__ import annotations

import asyncio
import hashlib

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.errors import RedisUnavailable, TongbanError

REDIS_TIMEOUT_S = 2.0


class AccountLocked(TongbanError):
    status, code, message = 429, "account_locked", "登录失败次数过多，账号已暂时锁定"


class Lockout:
    def __init__(self, redis: Redis, prefix: str, max_failures: int, lock_s: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.max_failures = max_failures
        self.lock_s = lock_s

    def _key(self, login: str) -> str:
        digest = hashlib.sha256(login.strip().casefold().encode()).hexdigest()
        return f"{self.prefix}login-failures:{digest}"

    async def check(self, login: str) -> None:
        """Raise `AccountLocked` (with the minutes left) while the name is locked."""
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S):
                failures = await self.redis.get(self._key(login))
                ttl = await self.redis.ttl(self._key(login)) if failures else 0
        except (RedisError, TimeoutError) as exc:
            raise RedisUnavailable() from exc
        if failures is not None and int(failures) >= self.max_failures:
            minutes = max(1, -(-ttl // 60))
            raise AccountLocked(f"登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试")

    async def fail(self, login: str) -> int:
        """Count one failure; returns how many tries are left before the lock."""
        key = self._key(login)
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S), self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.lock_s)
                failures, _ = await pipe.execute()
        except (RedisError, TimeoutError) as exc:
            raise RedisUnavailable() from exc
        return max(0, self.max_failures - int(failures))

    async def clear(self, login: str) -> None:
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S):
                await self.redis.delete(self._key(login))
        except (RedisError, TimeoutError) as exc:
            raise RedisUnavailable() from exc
