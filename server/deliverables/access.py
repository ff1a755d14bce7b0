"""Object-level access to deliverables: the one place that decides who may see, generate, issue or
revoke one.

See: whoever may see the project (`server.projects.access`). Generate, issue, revoke: for documents made
from filling data, the users who may edit that filling document (the project's owning enterprise with
`doc.edit`); for certificates, department staff holding `deliverable.certify`. A deliverable of a
project that may not be seen answers NotFound, like a missing one.
Must not: be bypassed by any route or page of deliverables; check route permissions (routes declare them).
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import HTTPConnection

from docgen.kinds import Kind
from server.collab.access import open_document
from server.errors import Forbidden, NotFound
from server.identity.models import CurrentUser
from server.projects.access import READ_ANY, access_project, project_owner
from server.routing import holds
from server.runtime import runtime

READ = "deliverable.read"
GENERATE = "deliverable.generate"
CERTIFY = "deliverable.certify"


async def see_project(conn: HTTPConnection, user: CurrentUser, project_id: UUID) -> None:
    async with runtime(conn).pool.acquire() as db:
        await access_project(db, user, project_id, read_any=await holds(conn, READ_ANY))


async def may_make(
    conn: HTTPConnection, user: CurrentUser, kind: Kind, project_id: UUID, doc_id: UUID | None
) -> None:
    """Raise unless `user` may generate (and later issue or revoke) a `kind` document of `project_id`
    (from `doc_id`, for filling kinds)."""
    await see_project(conn, user, project_id)
    if kind.source == "template":
        if not await holds(conn, CERTIFY):
            raise Forbidden(f"只有审批部门的发证人员可以出具{kind.title}")
        return
    if doc_id is None:
        async with runtime(conn).pool.acquire() as db:
            owner = await project_owner(db, project_id)
        if owner != user.org_id:
            raise Forbidden(f"只有项目所属单位可以出具或撤销{kind.title}")
        return
    document = await open_document(conn, doc_id)
    if document.project_id != project_id:
        raise NotFound("文档不存在或无权查看")
    document.require_edit()
