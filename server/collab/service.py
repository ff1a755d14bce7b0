"""Collaborative document rows: create one for a project, find a document's project. Access is
decided by the caller with `server.projects.access`. Must not: touch document content (the actor)."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from server.collab.models import DocumentOut

INSERT_DOCUMENT = """
    INSERT INTO collab_document (id, project_id, title, created_by) VALUES ($1, $2, $3, $4)
    RETURNING id, project_id, title, created_by, created_at"""
DOCUMENT_PROJECT = "SELECT project_id FROM collab_document WHERE id = $1"


def ws_path(doc_id: UUID) -> str:
    return f"/ws/docs/{doc_id}"


async def create_document(conn: Any, project_id: UUID, title: str, created_by: UUID) -> DocumentOut:
    row = await conn.fetchrow(INSERT_DOCUMENT, uuid.uuid4(), project_id, title, created_by)
    return DocumentOut(**dict(row), ws_path=ws_path(row["id"]))


async def document_project(conn: Any, doc_id: UUID) -> UUID | None:
    project_id: UUID | None = await conn.fetchval(DOCUMENT_PROJECT, doc_id)
    return project_id
