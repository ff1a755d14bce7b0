"""Identity operations on the database. Must not: import Starlette, or return password material."""

from __future__ import annotations

from typing import Any

from server.identity import sql
from server.identity.models import CurrentUser, DemoAccount


async def find_user_by_login(conn: Any, login: str) -> CurrentUser | None:
    row = await conn.fetchrow(sql.USER_BY_LOGIN, login)
    return CurrentUser.model_validate(dict(row)) if row else None


async def list_demo_accounts(conn: Any) -> list[DemoAccount]:
    return [DemoAccount.model_validate(dict(r)) for r in await conn.fetch(sql.DEMO_USERS)]
