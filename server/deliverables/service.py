"""Deliverables (出具文件): create one (validated, numbered, digested, queued for the worker), list and
read them, issue (sign) a draft, revoke an issued one. Every change is audited in the same transaction.

The public id is `TB` + the Shanghai date + 8 random characters (no I or O); the revision counts within
a series (the same kind from the same filling document, or the same certificate subject). The content
digest (SM3 of the canonical JSON of id, kind, revision, date and data) is fixed before rendering and
printed in the QR code; the files' digests are recorded when rendered and signed when issued.
Must not: render (the worker does, `server.deliverables.jobs`) or decide access (`access.py`).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from docgen.kinds import Kind
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.deliverables import signing, sql
from server.deliverables.models import DeliverableOut, FileOut
from server.errors import Conflict, NotFound
from server.identity.models import CurrentUser
from server.keystore import KeyRing
from server.projects import archive
from server.security.gm import open_field, seal_field, sm3_hex

SHANGHAI = ZoneInfo("Asia/Shanghai")
ID_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
DATA_KEY = "deliverable-data-1"  # SM4 key the input data is sealed with
JOB_NAME = "generate_deliverable"


def new_id(now: datetime) -> str:
    return (
        "TB"
        + now.astimezone(SHANGHAI).strftime("%Y%m%d")
        + "".join(secrets.choice(ID_ALPHABET) for _ in range(8))
    )


def job_id(deliverable_id: str) -> str:
    return f"deliverable:{deliverable_id}"


def ws_path(deliverable_id: str) -> str:
    return f"/ws/deliverables/{deliverable_id}"


def series_of(kind: Kind, project_id: UUID, doc_id: UUID | None, data: dict[str, Any]) -> str:
    if doc_id is not None:
        return f"{kind.key}:{project_id}:{doc_id}"
    subject = str(data.get(kind.subject) or "") if kind.subject else ""  # a certificate's own number
    return f"{kind.key}:{project_id}:{subject}"


def content_digest(doc_id: str, kind: str, revision: int, issued_on: str, data: dict[str, Any]) -> str:
    canonical = {"id": doc_id, "kind": kind, "revision": revision, "date": issued_on, "data": data}
    return sm3_hex(json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode())


def seal_data(keys: KeyRing, deliverable_id: str, data: dict[str, Any]) -> bytes:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return seal_field(DATA_KEY, keys.key(DATA_KEY, 16), text, deliverable_id.encode())


def open_data(keys: KeyRing, deliverable_id: str, sealed: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        open_field({DATA_KEY: keys.key(DATA_KEY, 16)}, sealed, deliverable_id.encode())
    )
    return data


def issued_on(created_at: datetime) -> str:
    return created_at.astimezone(SHANGHAI).date().isoformat()


async def create(
    conn: Any,
    keys: KeyRing,
    audit_key: bytes,
    kind: Kind,
    project_id: UUID,
    source: tuple[UUID, UUID] | None,
    data: dict[str, Any],
    by: CurrentUser,
    ip: str | None,
) -> str:
    """The queued deliverable's id; its row and audit entry in one transaction (the caller enqueues)."""
    now = datetime.now(SHANGHAI)
    deliverable_id = new_id(now)
    series = series_of(kind, project_id, source[0] if source else None, data)
    async with conn.transaction():
        await conn.execute(sql.LOCK_SERIES, series)
        revision = await conn.fetchval(sql.NEXT_REVISION, series)
        digest = content_digest(deliverable_id, kind.key, revision, now.date().isoformat(), data)
        await conn.execute(
            sql.INSERT, deliverable_id, kind.key, kind.title, project_id, source[0] if source else None,
            source[1] if source else None, series, revision, seal_data(keys, deliverable_id, data), digest,
            by.id, by.org_id,
        )  # fmt: skip
        await audit.append(conn, audit_key, AuditRecord(
            action="deliverable.create", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"deliverable:{deliverable_id}",
            detail={"kind": kind.key, "project_id": str(project_id), "revision": revision, "content_sm3": digest,
                    "source_version_id": str(source[1]) if source else None},
        ))  # fmt: skip
    return deliverable_id


async def row_of(conn: Any, deliverable_id: str) -> Any:
    row = await conn.fetchrow(sql.ONE, deliverable_id) if len(deliverable_id) <= 32 else None
    if row is None:
        raise NotFound("文件不存在或无权查看")
    return row


def out(row: Any, verify_base: str) -> DeliverableOut:
    files = row["files"] or {}
    base = f"/api/v1/deliverables/{row['id']}"
    return DeliverableOut(
        id=row["id"], kind=row["kind"], title=row["title"], project_id=row["project_id"],
        source_doc_id=row["source_doc_id"], source_version_id=row["source_version_id"], revision=row["revision"],
        status=row["status"], content_sm3=row["content_sm3"],
        files=[FileOut(ext=ext, sm3=f["sm3"], size=f["size"], url=f"{base}/files/{ext}")
               for ext, f in files.items() if ext != "previews"],
        previews=[f"{base}/previews/{n}" for n in range(1, len(files.get("previews", [])) + 1)],
        pages=row["pages"], sheet_numbers=list(row["sheet_numbers"]), problems=row["problems"],
        created_at=row["created_at"], issued_at=row["issued_at"], revoked_at=row["revoked_at"],
        revoke_reason=row["revoke_reason"],
        verify_url=f"{verify_base}/verify/{row['id']}?sm3={row['content_sm3']}", ws_path=ws_path(row["id"]),
    )  # fmt: skip


async def of_project(conn: Any, project_id: UUID) -> list[Any]:
    return list(await conn.fetch(sql.OF_PROJECT, project_id))


async def issue(
    conn: Any, keys: KeyRing, audit_key: bytes, deliverable_id: str, by: CurrentUser, ip: str | None
) -> None:
    """Sign a draft and make it valid; 409 when it is not a draft (still rendering, failed, issued)."""
    async with conn.transaction():
        row = await conn.fetchrow(sql.LOCK_ONE, deliverable_id)
        if row is None:
            raise NotFound("文件不存在或无权查看")
        if row["status"] != "draft":
            raise Conflict(f"只有生成完成、尚未签发的文件可以签发（当前：{STATUS_LABELS[row['status']]}）")
        files = {ext: f["sm3"] for ext, f in row["files"].items() if ext != "previews"}
        text = signing.statement(row["id"], row["kind"], row["revision"], row["content_sm3"], files)
        signature = signing.sign(keys, text)
        await conn.execute(sql.ISSUE, deliverable_id, text, signature, datetime.now(SHANGHAI), by.id)
        title = f"{row['title']}（{row['id']}，第 {row['revision']} 版）"
        stage = ARCHIVE_STAGES.get(row["kind"], "工程建设许可")
        await archive.record(conn, row["project_id"], stage, "deliverable", title, row["id"], row["content_sm3"], by.id)
        await audit.append(conn, audit_key, AuditRecord(
            action="deliverable.issue", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"deliverable:{deliverable_id}", detail={"statement": text},
        ))  # fmt: skip


async def revoke(
    conn: Any, audit_key: bytes, deliverable_id: str, reason: str, by: CurrentUser, ip: str | None
) -> None:
    async with conn.transaction():
        row = await conn.fetchrow(sql.LOCK_ONE, deliverable_id)
        if row is None:
            raise NotFound("文件不存在或无权查看")
        if row["status"] != "issued":
            raise Conflict(f"只有已签发的文件可以撤销（当前：{STATUS_LABELS[row['status']]}）")
        await conn.execute(sql.REVOKE, deliverable_id, by.id, reason)
        await audit.append(conn, audit_key, AuditRecord(
            action="deliverable.revoke", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"deliverable:{deliverable_id}", detail={"reason": reason},
        ))  # fmt: skip


# The archive stage each kind of issued document belongs to.
ARCHIVE_STAGES: dict[str, archive.Stage] = {
    "architecture_notes": "工程建设许可", "structure_notes": "工程建设许可", "load_calculation": "工程建设许可",
    "construction_permit": "施工许可", "utility_service_sheet": "施工许可", "fire_acceptance_record": "竣工验收",
}  # fmt: skip
STATUS_LABELS = {
    "queued": "排队中", "rendering": "生成中", "draft": "待签发", "failed": "生成失败",
    "issued": "有效", "revoked": "已撤销",
}  # fmt: skip
