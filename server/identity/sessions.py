"""Login sessions kept in Redis under a random token; the cookie carries the token, Redis keeps
only its SHA-256, so a leaked Redis dump does not hand out sessions.

Idle sessions expire after `session_ttl_s`; every use renews them.
Must not: store passwords or personal data beyond what a request needs to act.
"""

from __future__ import annotations

import hashlib
import secrets

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response

from server.identity.models import CurrentUser

COOKIE = "tb_session"


def _key(prefix: str, token: str) -> str:
    return f"{prefix}session:{hashlib.sha256(token.encode()).hexdigest()}"


async def open_session(redis: Redis, prefix: str, user: CurrentUser, ttl_s: int) -> str:
    token = secrets.token_urlsafe(32)
    await redis.set(_key(prefix, token), user.model_dump_json(), ex=ttl_s)
    return token


async def find_session(redis: Redis, prefix: str, token: str, ttl_s: int) -> CurrentUser | None:
    key = _key(prefix, token)
    raw = await redis.getex(key, ex=ttl_s)
    return CurrentUser.model_validate_json(raw) if raw else None


async def close_session(redis: Redis, prefix: str, token: str) -> None:
    await redis.delete(_key(prefix, token))


def apply_session_cookie(request: Request, response: Response) -> None:
    """Set or clear the session cookie a handler asked for (`request.state.set_cookie`)."""
    token: str | None = getattr(request.state, "set_cookie", None)
    if token is None:
        return
    secure = request.url.scheme == "https"
    if token:
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")
    else:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
