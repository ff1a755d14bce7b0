"""Collaborative document rows: create one for a project, list a project's documents, list and read
versions. Access is decided by the caller (`server.collab.access`, `server.projects.access`).
Must not: touch document content (the document actor does).
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from collab.catalogue import form
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.collab.models import DocumentOut, VersionOut
from server.errors import NotFound
from server.identity.models import CurrentUser

INSERT_DOCUMENT = """
    INSERT INTO collab_document (id, project_id, title, form, form_version, created_by)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id, project_id, title, form, form_version, created_by, created_at"""
DOCUMENT_PROJECT = "SELECT project_id FROM collab_document WHERE id = $1"
DOCUMENT = """
    SELECT id, project_id, title, form, form_version, created_by, created_at FROM collab_document
    WHERE id = $1"""
PROJECT_DOCUMENTS = """
    SELECT id, project_id, title, form, form_version, created_by, created_at FROM collab_document
    WHERE project_id = $1 ORDER BY created_at DESC LIMIT 200"""
VERSIONS = """
    SELECT v.id, v.seq, v.name, v.submitted, v.sm3, v.created_at, v.created_by, u.login AS created_by_login
    FROM collab_version v JOIN app_user u ON u.id = v.created_by
    WHERE v.doc_id = $1 ORDER BY v.seq DESC LIMIT 500"""
VERSION = """
    SELECT v.id, v.seq, v.name, v.submitted, v.sm3, v.created_at, v.created_by, u.login AS created_by_login,
           v.state
    FROM collab_version v JOIN app_user u ON u.id = v.created_by
    WHERE v.id = $1 AND v.doc_id = $2"""


def ws_path(doc_id: UUID) -> str:
    return f"/ws/docs/{doc_id}"


def _document(row: Any) -> DocumentOut:
    return DocumentOut(**dict(row), ws_path=ws_path(row["id"]))


async def create_document(
    conn: Any, audit_key: bytes, project_id: UUID, title: str, form_id: str, by: CurrentUser, ip: str | None
) -> DocumentOut:
    """The document row and its audit entry, in one transaction."""
    schema = form(form_id)
    async with conn.transaction():
        row = await conn.fetchrow(
            INSERT_DOCUMENT, uuid.uuid4(), project_id, title, schema.id, schema.version, by.id
        )
        await audit.append(conn, audit_key, AuditRecord(
            action="doc.create", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"doc:{row['id']}", detail={"project_id": str(project_id), "title": title, "form": schema.id},
        ))  # fmt: skip
    return _document(row)


async def document_project(conn: Any, doc_id: UUID) -> UUID | None:
    project_id: UUID | None = await conn.fetchval(DOCUMENT_PROJECT, doc_id)
    return project_id


async def get_document(conn: Any, doc_id: UUID) -> DocumentOut:
    row = await conn.fetchrow(DOCUMENT, doc_id)
    if row is None:
        raise NotFound("文档不存在或无权查看")
    return _document(row)


async def project_documents(conn: Any, project_id: UUID) -> list[DocumentOut]:
    return [_document(row) for row in await conn.fetch(PROJECT_DOCUMENTS, project_id)]


async def list_versions(conn: Any, doc_id: UUID) -> list[VersionOut]:
    return [VersionOut(**dict(row)) for row in await conn.fetch(VERSIONS, doc_id)]


async def get_version(conn: Any, doc_id: UUID, version_id: UUID) -> tuple[VersionOut, bytes]:
    row = await conn.fetchrow(VERSION, version_id, doc_id)
    if row is None:
        raise NotFound("版本不存在")
    fields = dict(row)
    state: bytes = fields.pop("state")
    return VersionOut(**fields), state
