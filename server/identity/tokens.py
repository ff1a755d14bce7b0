"""Scoped API tokens for machine clients (the offline design client, the mini-program backend,
external platforms): created by a logged-in person for themself, shown once, stored as an HMAC-SM3
of their secret, revocable, optionally expiring. A token acts as its owner but only within its scopes,
and never beyond what the owner's role holds at the moment of use.

Token text: `tbk_<id as 32 hex>_<secret>`. Must not: store or log the secret, or let a token create
tokens (token management needs a browser session).
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Forbidden, NotFound
from server.identity import users
from server.identity.models import CurrentUser
from server.identity.pii import Pii
from server.security.gm import hmac_sm3, macs_equal

TOKEN_KEY = "api-token"  # noqa: S105 - the key's name in the key ring, not a secret
_TOKEN = re.compile(r"^tbk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$")

INSERT = """
    INSERT INTO api_token (id, user_id, name, secret_hash, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6)"""
OF_USER = """
    SELECT id, name, scopes, created_at, expires_at, revoked_at, last_used_at FROM api_token
    WHERE user_id = $1 ORDER BY created_at DESC"""
BY_ID = "SELECT id, user_id, secret_hash, scopes, expires_at, revoked_at FROM api_token WHERE id = $1"
REVOKE = "UPDATE api_token SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL"
# At most one write a minute per token: a busy machine client must not turn every read into a write.
TOUCH = """
    UPDATE api_token SET last_used_at = now()
    WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')"""


class TokenOut(BaseModel):
    id: UUID
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenBeyondRole(Forbidden):
    code, message = "token_scope_not_held", "令牌的权限范围不能超出本人角色的权限"


def _hash(key: bytes, secret: str) -> str:
    return hmac_sm3(key, secret.encode()).hex()


async def create_token(
    conn: Any, key: bytes, audit_key: bytes, user: CurrentUser, held: frozenset[str], *, name: str,
    scopes: list[str], expires_in_days: int | None, ip: str | None,
) -> tuple[UUID, str]:  # fmt: skip
    """Precondition: `held` is what the user's role holds now. Returns the id and the token text (once)."""
    if not set(scopes) <= held:
        raise TokenBeyondRole()
    token_id, secret = uuid.uuid4(), secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    async with conn.transaction():
        await conn.execute(
            INSERT, token_id, user.id, name, _hash(key, secret), sorted(set(scopes)), expires_at
        )
        await audit.append(conn, audit_key, AuditRecord(
            action="identity.token_create", actor_id=user.id, actor_login=user.login, org_id=user.org_id, ip=ip,
            target=f"api_token:{token_id}", detail={"scopes": sorted(set(scopes))},
        ))  # fmt: skip
    return token_id, f"tbk_{token_id.hex}_{secret}"


async def list_tokens(conn: Any, user: CurrentUser) -> list[TokenOut]:
    return [TokenOut.model_validate(dict(r)) for r in await conn.fetch(OF_USER, user.id)]


async def revoke_token(
    conn: Any, audit_key: bytes, user: CurrentUser, token_id: UUID, ip: str | None
) -> None:
    async with conn.transaction():
        if await conn.execute(REVOKE, token_id, user.id) != "UPDATE 1":
            raise NotFound("令牌不存在或已吊销")
        await audit.append(conn, audit_key, AuditRecord(
            action="identity.token_revoke", actor_id=user.id, actor_login=user.login, org_id=user.org_id, ip=ip,
            target=f"api_token:{token_id}",
        ))  # fmt: skip


async def authenticate(
    conn: Any, key: bytes, pii: Pii, acl_key: bytes, text: str
) -> tuple[CurrentUser, frozenset[str]] | None:
    """The owner and scopes of a live token; None for anything else (malformed, unknown, wrong secret,
    revoked, expired, owner disabled)."""
    match = _TOKEN.match(text)
    if match is None:
        return None
    row = await conn.fetchrow(BY_ID, UUID(hex=match.group(1)))
    if row is None or not macs_equal(
        bytes.fromhex(row["secret_hash"]), bytes.fromhex(_hash(key, match.group(2)))
    ):
        return None
    if row["revoked_at"] is not None or (
        row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC)
    ):
        return None
    owner = await users.get_user(conn, pii, acl_key, row["user_id"])
    if owner.status != "active":
        return None
    await conn.execute(TOUCH, row["id"])
    return owner.current_user(), frozenset(row["scopes"])
