"""A finished upload becomes the next version (版次) of its catalogue entry: the one write that
records a stored file against a drawing, inside the caller's transaction, audited there.

Must not: touch bytes (the storage has placed the blob before this runs) or check access (the upload
was bound to its entry, with access checked, when it was created).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.files.storage import StoredBlob
from server.projects import archive

INSERT_BLOB = """
    INSERT INTO file_blob (sm3, size, media_type) VALUES ($1, $2, $3) ON CONFLICT (sm3) DO NOTHING"""
NEXT_VERSION = """
    UPDATE drawing SET latest_version = latest_version + 1 WHERE id = $1
    RETURNING latest_version, project_id, kind, number, title"""
INSERT_VERSION = """
    INSERT INTO drawing_version (drawing_id, version, blob_sm3, file_name, size, media_type, uploaded_by, upload_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"""


async def add_version(
    conn: Any,
    audit_key: bytes,
    *,
    drawing_id: UUID,
    blob: StoredBlob,
    file_name: str,
    media_type: str,
    user_id: UUID,
    user_login: str | None,
    org_id: UUID,
    upload_id: UUID,
    ip: str | None,
) -> int:
    """Record `blob` as the next version of `drawing_id`; returns the version number. The row lock
    of the UPDATE orders concurrent uploads to one entry (1, 2, 3 … without gaps or repeats)."""
    await conn.execute(INSERT_BLOB, blob.sm3, blob.size, media_type)
    row = await conn.fetchrow(NEXT_VERSION, drawing_id)
    version: int = row["latest_version"]
    await conn.execute(
        INSERT_VERSION, drawing_id, version, blob.sm3, file_name, blob.size, media_type, user_id, upload_id
    )
    record = AuditRecord(
        action="drawing.upload", actor_id=user_id, actor_login=user_login, org_id=org_id, ip=ip,
        target=f"drawing:{drawing_id}",
        detail={"project_id": str(row["project_id"]), "version": version, "sm3": blob.sm3, "size": blob.size,
                "file_name": file_name},
    )  # fmt: skip
    await audit.append(conn, audit_key, record)
    stage: archive.Stage = "竣工验收" if row["kind"] == "as_built" else "工程建设许可"
    kind_label = "竣工图" if row["kind"] == "as_built" else "施工图"
    await archive.record(conn, row["project_id"], stage, "drawing",
                         f"{kind_label} {row['number']} {row['title']}（第 {version} 版）", f"{drawing_id}:{version}",
                         blob.sm3, user_id)  # fmt: skip
    return version
