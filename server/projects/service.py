"""Project operations that need no actor: listing. Writes go through the project actor.

Must not: import Starlette.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.identity.models import CurrentUser
from server.projects import sql
from server.projects.models import ProjectRow

LIST_LIMIT = 200


async def list_projects(conn: Any, user: CurrentUser, *, read_any: bool) -> list[ProjectRow]:
    if read_any:
        rows = await conn.fetch(sql.LIST_ALL, LIST_LIMIT)
    else:
        rows = await conn.fetch(sql.LIST_OF_ORG, LIST_LIMIT, user.org_id)
    return [ProjectRow.model_validate(dict(r)) for r in rows]


async def find_same_registration(conn: Any, code: str, owner_org_id: UUID, name: str) -> UUID | None:
    """The project already registered with this code by this organisation under this name, if any."""
    row = await conn.fetchrow(sql.PROJECT_BY_CODE, code)
    if row is None or row["owner_org_id"] != owner_org_id or row["name"] != name:
        return None
    project_id: UUID = row["id"]
    return project_id


async def department_names(conn: Any, ids: list[UUID]) -> dict[UUID, str]:
    """The names of those of `ids` that are approval departments."""
    return {r["id"]: r["name"] for r in await conn.fetch(sql.DEPARTMENTS, ids)}
