"""Object-level access to projects: the one place that decides whether a user may see a project.

A project that exists but may not be seen answers NotFound, like one that does not exist, so one
enterprise cannot learn of another's projects. Must not: be bypassed by any route or socket.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.errors import NotFound
from server.identity.models import CurrentUser
from server.projects import sql

READ_ANY = "project.read_any"  # the permission that lifts the own-organisation restriction


async def access_project(conn: Any, user: CurrentUser, project_id: UUID, *, read_any: bool) -> None:
    """`read_any`: whether the user's role holds `READ_ANY` (the caller asks the permission table)."""
    owner = await conn.fetchval(sql.PROJECT_OWNER, project_id)
    if owner is None or not (read_any or owner == user.org_id):
        raise NotFound("项目不存在或无权查看")
