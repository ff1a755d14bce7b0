"""Identity operations on the database. Must not: import Starlette, or return password material."""

from __future__ import annotations

from typing import Any

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.identity import sql
from server.identity.models import CurrentUser, DemoAccount


async def demo_login(conn: Any, audit_key: bytes, login: str, ip: str | None) -> CurrentUser | None:
    """The demo account called `login`, with the attempt recorded in the audit chain either way."""
    async with conn.transaction():
        user = await find_user_by_login(conn, login)
        record = AuditRecord(
            action="identity.login", outcome="success" if user else "failure", ip=ip,
            actor_id=user.id if user else None, actor_login=login, org_id=user.org_id if user else None,
            detail={"method": "demo"},
        )  # fmt: skip
        await audit.append(conn, audit_key, record)
    return user


async def record_logout(
    conn: Any, audit_key: bytes, user: CurrentUser, ip: str | None, *, everywhere: bool
) -> None:
    async with conn.transaction():
        record = AuditRecord(
            action="identity.logout_everywhere" if everywhere else "identity.logout", ip=ip,
            actor_id=user.id, actor_login=user.login, org_id=user.org_id,
        )  # fmt: skip
        await audit.append(conn, audit_key, record)


async def find_user_by_login(conn: Any, login: str) -> CurrentUser | None:
    row = await conn.fetchrow(sql.USER_BY_LOGIN, login)
    return CurrentUser.model_validate(dict(row)) if row else None


async def list_demo_accounts(conn: Any) -> list[DemoAccount]:
    return [DemoAccount.model_validate(dict(r)) for r in await conn.fetch(sql.DEMO_USERS)]
