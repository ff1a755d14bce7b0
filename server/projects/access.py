"""Object-level access to projects: the one place that decides whether a user may see a project.

A project that exists but may not be seen answers NotFound, like one that does not exist, so one
enterprise cannot learn of another's projects. A project's owner never changes, so owners are
remembered per process (a websocket storm costs no query per socket). Must not: be bypassed by any
route or socket; remember owners if projects ever change hands (clear `_OWNERS` then).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID

from server.errors import NotFound
from server.identity.models import CurrentUser
from server.projects import sql

READ_ANY = "project.read_any"  # the permission that lifts the own-organisation restriction
OWNERS_REMEMBERED = 100_000

_OWNERS: OrderedDict[UUID, UUID] = OrderedDict()


async def project_owner(conn: Any, project_id: UUID) -> UUID | None:
    owner = _OWNERS.get(project_id)
    if owner is None:
        owner = await conn.fetchval(sql.PROJECT_OWNER, project_id)
        if owner is None:
            return None  # not remembered: it may be registered a moment later
        _OWNERS[project_id] = owner
        if len(_OWNERS) > OWNERS_REMEMBERED:
            _OWNERS.popitem(last=False)
    return owner


async def access_project(conn: Any, user: CurrentUser, project_id: UUID, *, read_any: bool) -> None:
    """`read_any`: whether the user's role holds `READ_ANY` (the caller asks the permission table)."""
    owner = await project_owner(conn, project_id)
    if owner is None or not (read_any or owner == user.org_id):
        raise NotFound("项目不存在或无权查看")
