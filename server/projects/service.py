"""Project operations that need no actor: listing. Writes go through the project actor.

Must not: import Starlette.
"""

from __future__ import annotations

from typing import Any

from server.identity.models import CurrentUser
from server.projects import sql
from server.projects.access import sees_every_project
from server.projects.models import ProjectRow

LIST_LIMIT = 200


async def list_projects(conn: Any, user: CurrentUser) -> list[ProjectRow]:
    rows = await conn.fetch(sql.LIST_VISIBLE, sees_every_project(user), user.org_id, LIST_LIMIT)
    return [ProjectRow.model_validate(dict(r)) for r in rows]
