"""Object-level access to a project's drawings and uploads: the one place that decides who may read
or upload them.

Read: the project's owner enterprise, the departments its parallel approval was dispatched to
(`project_reviewer`), and roles holding `drawing.read_any` (administrators). Upload and catalogue
changes: the owner enterprise only. A project that may not be read answers NotFound, like a missing
one; one that may be read but not written answers Forbidden.
Must not: be bypassed by any route or page of files; check role permissions (the routes declare those).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import HTTPConnection

from server.errors import Forbidden, NotFound
from server.identity.models import CurrentUser
from server.projects.access import project_owner
from server.routing import holds

READ = "drawing.read"
READ_ANY = "drawing.read_any"
UPLOAD = "drawing.upload"
IS_REVIEWER = "SELECT EXISTS (SELECT 1 FROM project_reviewer WHERE project_id = $1 AND dept_org_id = $2)"


async def can_read_any(conn: HTTPConnection) -> bool:
    return await holds(conn, READ_ANY)


async def read_files(db: Any, user: CurrentUser, project_id: UUID, *, read_any: bool) -> None:
    """Raise NotFound unless `user` may read the drawings of `project_id`."""
    owner = await project_owner(db, project_id)
    if owner is None:
        raise NotFound("项目不存在或无权查看")
    if read_any or owner == user.org_id:
        return
    if not await db.fetchval(IS_REVIEWER, project_id, user.org_id):
        raise NotFound("项目不存在或无权查看")


async def write_files(db: Any, user: CurrentUser, project_id: UUID, *, read_any: bool) -> None:
    """Raise unless `user` may upload drawings to `project_id` and change its catalogue."""
    await read_files(db, user, project_id, read_any=read_any)
    if await project_owner(db, project_id) != user.org_id:
        raise Forbidden("只有项目所属单位可以上传图纸或修改图纸目录")
