"""Object-level access to collaborative documents: the one place that decides whether a user may read
or edit a document. Read = whoever may see its project (`server.projects.access`); edit = users of
the project's owning organisation whose role holds `doc.edit` (and, for API tokens, whose scopes
include it). A document that exists but may not be seen answers NotFound, like a missing one.
Must not: be bypassed by a route, page or socket of documents.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from starlette.requests import HTTPConnection

from server.errors import Forbidden, NotFound
from server.projects.access import READ_ANY, access_project, project_owner
from server.routing import current_session, current_user, holds
from server.runtime import runtime

EDIT = "doc.edit"
DOCUMENT = "SELECT project_id, title, form, form_version FROM collab_document WHERE id = $1"


@dataclass(frozen=True)
class DocumentAccess:
    doc_id: UUID
    project_id: UUID
    title: str
    form_id: str
    form_version: int
    can_edit: bool

    def require_edit(self) -> None:
        if not self.can_edit:
            raise Forbidden("只有项目所属单位的编辑人员可以修改该文档")


@dataclass(frozen=True)
class _Document:
    project_id: UUID
    title: str
    form_id: str
    form_version: int


# A document's project, title and form never change: remembered per process, so that a storm of
# editors joining costs no query each (the project's owner is remembered by `server.projects.access`).
# Must be cleared here if documents ever move or are renamed.
_DOCUMENTS: OrderedDict[UUID, _Document] = OrderedDict()
DOCUMENTS_REMEMBERED = 100_000


async def _document(db: Any, doc_id: UUID) -> _Document | None:
    found = _DOCUMENTS.get(doc_id)
    if found is None:
        row = await db.fetchrow(DOCUMENT, doc_id)
        if row is None:
            return None  # not remembered: it may be created a moment later
        found = _DOCUMENTS[doc_id] = _Document(
            row["project_id"], row["title"], row["form"], row["form_version"]
        )
        if len(_DOCUMENTS) > DOCUMENTS_REMEMBERED:
            _DOCUMENTS.popitem(last=False)
    return found


async def open_document(conn: HTTPConnection, doc_id: UUID) -> DocumentAccess:
    """The caller's rights on `doc_id`; NotFound when it is missing or its project not visible."""
    user = await current_user(conn)
    if user is None:
        raise NotFound("文档不存在或无权查看")
    async with runtime(conn).pool.acquire() as db:  # used only for what is not remembered yet
        document = await _document(db, doc_id)
        try:
            if document is None:
                raise NotFound()
            await access_project(db, user, document.project_id, read_any=await holds(conn, READ_ANY))
        except NotFound as exc:  # the same answer whether the document or its project is missing or hidden
            raise NotFound("文档不存在或无权查看") from exc
        owner = await project_owner(db, document.project_id)
    session = await current_session(conn)
    scoped_out = session is not None and session.scopes is not None and EDIT not in session.scopes
    can_edit = owner == user.org_id and await holds(conn, EDIT) and not scoped_out
    return DocumentAccess(
        doc_id, document.project_id, document.title, document.form_id, document.form_version, can_edit
    )
