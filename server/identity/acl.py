"""The permission table as data, and the integrity of access-control rows.

`role_permission` rows and each user's role assignment (`app_user.acl_mac`) carry an HMAC-SM3 made by
the application. Rows are checked when loaded: one whose MAC does not match was changed behind the
application's back (a direct SQL edit, a restored backup of another system) and is refused (the
permission is not granted, the user cannot log in) and reported in the log and the audit chain.
The table starts as `server.permissions.ROLE_PERMISSIONS` and is maintained by administrators.
Must not: grant anything from a row it could not verify.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Unavailable
from server.permissions import PERMISSION_LABELS, ROLE_PERMISSIONS, role_has
from server.security.gm import hmac_sm3, macs_equal

logger = logging.getLogger(__name__)

ACL_KEY = "acl-mac"  # name of the key in the key ring

ALL_ROWS = "SELECT role, permission, mac FROM role_permission ORDER BY role, permission"
INSERT_ROW = """
    INSERT INTO role_permission (role, permission, mac) VALUES ($1, $2, $3)
    ON CONFLICT (role, permission) DO NOTHING"""
DELETE_ROW = "DELETE FROM role_permission WHERE role = $1 AND permission = $2"
COUNT_ROWS = "SELECT count(*) FROM role_permission"
INTRODUCED = "SELECT permission FROM permission_introduced"
INTRODUCE = "INSERT INTO permission_introduced (permission) VALUES ($1) ON CONFLICT DO NOTHING"
INSERT_DEFAULT = """
    INSERT INTO role_permission (role, permission, mac) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"""


def _mac(key: bytes, *parts: str) -> str:
    return hmac_sm3(key, "\x1f".join(parts).encode()).hex()


def _matches(key: bytes, mac: str | None, *parts: str) -> bool:
    """Whether `mac` is the row's MAC. Anything else written into the column (not hex, the wrong
    length) is simply not a match: one damaged row must not take the whole table down."""
    try:
        given = bytes.fromhex(mac) if mac is not None else None
    except ValueError:
        return False
    return given is not None and macs_equal(bytes.fromhex(_mac(key, *parts)), given)


def permission_row_mac(key: bytes, role: str, permission: str) -> str:
    return _mac(key, "role_permission", role, permission)


def assignment_mac(key: bytes, user_id: UUID, login: str, org_id: UUID, role: str, status: str) -> str:
    return _mac(key, "app_user", str(user_id), login, str(org_id), role, status)


def assignment_intact(key: bytes, row: Any) -> bool:
    return _matches(key, row["acl_mac"], "app_user", str(row["id"]), row["login"], str(row["org_id"]),
                    row["role"], row["status"])  # fmt: skip


@dataclass(frozen=True)
class PermissionTable:
    grants: dict[str, frozenset[str]]
    refused_rows: int = 0

    def role_has(self, role: str | None, permission: str) -> bool:
        return role_has(role, permission, self.grants)


async def ensure_defaults(conn: Any, key: bytes) -> int:
    """Write the default grants of every permission not introduced yet (all of them into an empty
    table); returns how many rows were written. A grant an administrator revoked is not restored."""
    introduced = {r["permission"] for r in await conn.fetch(INTRODUCED)}
    if not await conn.fetchval(COUNT_ROWS):
        introduced = set()
    new = sorted(p for p in PERMISSION_LABELS if p not in introduced)
    rows = [
        (r, p, permission_row_mac(key, r, p)) for r, perms in ROLE_PERMISSIONS.items() for p in sorted(perms)
        if p in new
    ]  # fmt: skip
    async with conn.transaction():
        await conn.executemany(INSERT_DEFAULT, rows)
        await conn.executemany(INTRODUCE, [(p,) for p in new])
    return len(rows)


async def load(conn: Any, key: bytes, audit_key: bytes | None = None) -> PermissionTable:
    """The verified table. Rows whose MAC fails are left out, logged, and (given `audit_key`) audited."""
    grants: dict[str, set[str]] = {}
    refused = []
    for row in await conn.fetch(ALL_ROWS):
        if _matches(key, row["mac"], "role_permission", row["role"], row["permission"]):
            grants.setdefault(row["role"], set()).add(row["permission"])
        else:
            refused.append(f"{row['role']}:{row['permission']}")
    if refused:
        logger.error("acl.tampered_rows_refused", extra={"rows": refused})
        if audit_key is not None:
            async with conn.transaction():
                record = AuditRecord(
                    action="security.acl_tampered", outcome="failure", detail={"rows": refused}
                )
                await audit.append(conn, audit_key, record)
    return PermissionTable({r: frozenset(p) for r, p in grants.items()}, refused_rows=len(refused))


async def grant(conn: Any, key: bytes, role: str, permission: str) -> None:
    await conn.execute(INSERT_ROW, role, permission, permission_row_mac(key, role, permission))


async def revoke(conn: Any, role: str, permission: str) -> None:
    await conn.execute(DELETE_ROW, role, permission)


RECHECK_S = 0.25  # how stale the table may be on a node other than the one where it changed


class PermissionCache:
    """The verified table, reloaded when an administrator changes it on any node (a version counter in
    Redis, read at most once per RECHECK_S) and at start."""

    def __init__(self, pool: Any, redis: Any, prefix: str, key: bytes, audit_key: bytes) -> None:
        self.pool = pool
        self.redis = redis
        self.version_key = f"{prefix}acl-version"
        self.key = key
        self.audit_key = audit_key
        self._table: PermissionTable | None = None
        self._version: object = None
        self._checked_at = -RECHECK_S

    async def table(self) -> PermissionTable:
        now = time.monotonic()
        if self._table is not None and now - self._checked_at < RECHECK_S:
            return self._table  # a change on another node applies here within RECHECK_S
        self._checked_at = now  # before the await: concurrent callers keep using the table meanwhile
        version = await self.redis.get(self.version_key)
        if self._table is None or version != self._version:
            try:
                async with self.pool.acquire() as conn:
                    await ensure_defaults(conn, self.key)
                    self._table = await load(conn, self.key, self.audit_key)
            except asyncpg.UndefinedTableError as exc:  # migrations not applied yet: /readyz says so
                raise Unavailable("服务尚未就绪（数据库未迁移）") from exc
            self._version = version
        return self._table

    async def changed(self) -> None:
        await self.redis.incr(self.version_key)
        self._checked_at = -RECHECK_S  # this node applies its own change at once
