"""Login sessions kept in Redis behind a signed, HttpOnly, SameSite cookie.

The cookie carries a random 256-bit token and its HMAC-SM3 signature, so a forged or altered cookie
is refused before Redis is asked; Redis keeps the session under the token's SHA-256 only, so a leaked
Redis dump hands out no sessions. A session ends after `idle_s` without use (each use renews it),
at `absolute_s` after login whatever happens, at logout, or when all of a user's sessions are closed
(logout everywhere, password change, account disabled). Each session has its own CSRF token.
Must not: store passwords or personal data beyond what a request needs to act.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response

from server.identity.models import CurrentUser
from server.security.gm import hmac_sm3, macs_equal

COOKIE = "tb_session"
CSRF_HEADER = "x-csrf-token"
SIGNING_KEY = "session-cookie"  # name of the cookie-signing key in the key ring
_SIG_BYTES = 16


class Session(BaseModel):
    model_config = ConfigDict(frozen=True)

    user: CurrentUser
    csrf: str
    created_at: datetime
    scopes: frozenset[str] | None = None  # an API token's scopes; None for a person's browser session
    # Logged in with a password past its maximum age (等保: changed periodically): until it is changed the
    # session may only reach what every logged-in user may (account, logout), nothing that needs a permission.
    password_expired: bool = False


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SessionStore:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        signing_key: bytes,
        idle_s: int,
        absolute_s: int,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.signing_key = signing_key
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self.clock = clock

    def _key(self, token: str) -> str:
        return f"{self.prefix}session:{hashlib.sha256(token.encode()).hexdigest()}"

    def _user_key(self, user_id: UUID) -> str:
        return f"{self.prefix}user-sessions:{user_id}"

    def _sign(self, token: str) -> str:
        return hmac_sm3(self.signing_key, token.encode())[:_SIG_BYTES].hex()

    def _token_of(self, cookie: str) -> str | None:
        token, _, signature = cookie.partition(".")
        if not token or len(signature) != 2 * _SIG_BYTES:
            return None
        try:
            given = bytes.fromhex(signature)
        except ValueError:
            return None
        return token if macs_equal(given, bytes.fromhex(self._sign(token))) else None

    async def open(self, user: CurrentUser, *, password_expired: bool = False) -> tuple[str, Session]:
        """Start a session; returns the cookie value and the session."""
        token = secrets.token_urlsafe(32)
        session = Session(
            user=user,
            csrf=secrets.token_urlsafe(32),
            created_at=self.clock(),
            password_expired=password_expired,
        )
        key = self._key(token)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, session.model_dump_json(), ex=self.idle_s)
            pipe.sadd(self._user_key(user.id), key)
            pipe.expire(self._user_key(user.id), self.absolute_s)
            await pipe.execute()
        await self._forget_ended(user.id)
        return f"{token}.{self._sign(token)}", session

    async def _forget_ended(self, user_id: UUID) -> None:
        """Drop the user's ended sessions from their set, so it holds live sessions only and stays small."""
        user_key = self._user_key(user_id)
        raw = await self.redis.smembers(user_key)  # type: ignore[misc]  # redis-py's sync/async union
        members = [m.decode() if isinstance(m, bytes) else str(m) for m in raw]
        if len(members) <= 1:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for member in members:
                pipe.exists(member)
            alive = await pipe.execute()
        ended = [m for m, live in zip(members, alive, strict=True) if not live]
        if ended:
            await self.redis.srem(user_key, *ended)  # type: ignore[misc]

    async def find(self, cookie: str) -> Session | None:
        """The live session of this cookie, renewed; None when forged, expired or closed."""
        token = self._token_of(cookie)
        if token is None:
            return None
        key = self._key(token)
        raw = await self.redis.getex(key, ex=self.idle_s)  # read and renew in one round trip
        if raw is None:
            return None
        session = Session.model_validate_json(raw)
        left_s = self.absolute_s - (self.clock() - session.created_at).total_seconds()
        if left_s <= 0:
            await self.redis.delete(key)
            return None
        if left_s < self.idle_s:  # near its absolute end: never renewed past it
            await self.redis.expire(key, int(left_s) or 1)
        return session

    async def close(self, cookie: str) -> Session | None:
        token = self._token_of(cookie)
        if token is None:
            return None
        key = self._key(token)
        raw = await self.redis.getdel(key)
        if raw is None:
            return None
        session = Session.model_validate_json(raw)
        await self.redis.srem(self._user_key(session.user.id), key)  # type: ignore[misc]  # redis-py's union
        return session

    async def close_all(self, user_id: UUID) -> int:
        """End every session of a user (logout everywhere, password change, account disabled)."""
        user_key = self._user_key(user_id)
        members = await self.redis.smembers(user_key)  # type: ignore[misc]  # redis-py's sync/async union
        keys = [k.decode() if isinstance(k, bytes) else str(k) for k in members]
        async with self.redis.pipeline(transaction=True) as pipe:
            if keys:
                pipe.delete(*keys)
            pipe.delete(user_key)
            results = await pipe.execute()
        return int(results[0]) if keys else 0


def apply_session_cookie(request: Request, response: Response) -> None:
    """Set or clear the session cookie a handler asked for (`request.state.set_cookie`)."""
    value: str | None = getattr(request.state, "set_cookie", None)
    if value is None:
        return
    secure = request.url.scheme == "https"
    if value:
        response.set_cookie(COOKIE, value, httponly=True, samesite="lax", secure=secure, path="/")
    else:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
