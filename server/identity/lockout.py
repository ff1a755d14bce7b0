"""Login-failure lockout (等保 身份鉴别 b): after `max_failures` failed logins for one login name within
`lock_s`, that name is locked for `lock_s`. Counted per name whether or not the account exists, so
the lock reveals nothing about which accounts exist.

A locked name is refused before any password is hashed (`check`), but that alone would let a burst
of concurrent guesses all pass the check before the first of them counted. So the verdict of each
attempt is settled against the count again once the password has been compared, in one Redis script
each: a failure past the limit (`fail`) and even a right password arriving after the lock
(`succeed`) are answered `AccountLocked` like any attempt on a locked name, so however many guesses
run at once, no more than `max_failures` of them get an answer. Concurrent logins with the right
password, which nothing counts, all succeed.
Must not: count per IP only (a botnet spreads over addresses) or store the password tried.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.errors import RedisUnavailable, TongbanError

REDIS_TIMEOUT_S = 2.0

# KEYS: the name's failure counter; ARGV: max_failures, lock_s. Answers {failures so far, seconds left}.
# Failures past the limit (attempts already running when the lock fell) do not lengthen the lock.
_FAIL = """
local failures = redis.call('INCR', KEYS[1])
if failures <= tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return {failures, redis.call('TTL', KEYS[1])}
"""
# KEYS: the name's failure counter; ARGV: max_failures. Forgets the failures unless the name is locked;
# answers {1, 0} when it did, {0, seconds left} when the name is locked.
_SUCCEED = """
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures >= tonumber(ARGV[1]) then return {0, redis.call('TTL', KEYS[1])} end
redis.call('DEL', KEYS[1])
return {1, 0}
"""


class AccountLocked(TongbanError):
    status, code, message = 429, "account_locked", "登录失败次数过多，账号已暂时锁定"

    def __init__(self, ttl_s: int) -> None:
        minutes = max(1, -(-ttl_s // 60))
        super().__init__(f"登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试")


class Lockout:
    def __init__(self, redis: Redis, prefix: str, max_failures: int, lock_s: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.max_failures = max_failures
        self.lock_s = lock_s
        self._fail = redis.register_script(_FAIL)
        self._succeed = redis.register_script(_SUCCEED)

    def _key(self, login: str) -> str:
        digest = hashlib.sha256(login.strip().casefold().encode()).hexdigest()
        return f"{self.prefix}login-failures:{digest}"

    async def check(self, login: str) -> None:
        """Raise `AccountLocked` (with the minutes left) while the name is locked."""
        key = self._key(login)
        async with _redis_call():
            failures = await self.redis.get(key)
            ttl_s = await self.redis.ttl(key) if failures else 0
        if failures is not None and int(failures) >= self.max_failures:
            raise AccountLocked(int(ttl_s))

    async def fail(self, login: str) -> int:
        """Count one failure; returns how many tries are left before the lock (0: this one set it).
        Raises `AccountLocked` when the name was locked while this attempt ran."""
        async with _redis_call():
            failures, ttl_s = await self._fail(keys=[self._key(login)], args=[self.max_failures, self.lock_s])
        if int(failures) > self.max_failures:
            raise AccountLocked(int(ttl_s))
        return self.max_failures - int(failures)

    async def succeed(self, login: str) -> None:
        """The right password: forget the name's failures. Raises `AccountLocked` when the name was
        locked while this attempt ran (it may be the one right guess of a burst)."""
        async with _redis_call():
            cleared, ttl_s = await self._succeed(keys=[self._key(login)], args=[self.max_failures])
        if not int(cleared):
            raise AccountLocked(int(ttl_s))


@asynccontextmanager
async def _redis_call() -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise RedisUnavailable() from exc
