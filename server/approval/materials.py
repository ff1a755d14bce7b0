"""Application materials (申报材料) of 开工一件事: the files an enterprise attaches to a project's one form,
by the published catalogue's material code, and what a signed submission may say about them.

A file is uploaded once (PDF, JPEG, PNG or TIFF, judged by its first bytes and agreeing with its name's
extension, at most 50 MB) and stored content-addressed by SM3; a material the enterprise attached to one
of its earlier projects is linked to this one (a new row, the same blob: no new bytes). Removing one
keeps its row (withdrawn_at) for the audit trail and for the signed applications that named its SM3.
At submission the signed `materials` map may name only this project's attached files under their own
codes, and every required material of the merged form needs at least one. Every write is audited in
its own transaction.
Must not: decide access (the routes ask `server.approval.access`), or read a body (the route hands
over bytes it already limited).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from server.approval.catalogue import Catalogue
from server.approval.merged_form import MergedForm
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import InvalidInput, NotFound
from server.files import sniff
from server.files.storage import StoredBlob
from server.identity.models import CurrentUser

MAX_BYTES = 50 * 1024 * 1024
ALLOWED = (sniff.PDF, sniff.JPEG, sniff.PNG, sniff.TIFF)
EARLIER_PER_CODE = 5
SM3_HEX = frozenset("0123456789abcdef")

INSERT_BLOB = """
    INSERT INTO file_blob (sm3, size, media_type) VALUES ($1, $2, $3) ON CONFLICT (sm3) DO NOTHING"""
INSERT = """
    INSERT INTO approval_material (id, project_id, org_id, material_code, file_name, sm3, size, media_type, source,
                                   reused_from, uploaded_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    RETURNING id, material_code AS code, file_name, size, sm3, media_type, source, created_at"""
ATTACHED = """
    SELECT id, material_code AS code, file_name, size, sm3, media_type, source, created_at FROM approval_material
    WHERE project_id = $1 AND withdrawn_at IS NULL ORDER BY material_code, created_at"""
ATTACHED_SAME = """
    SELECT id, material_code AS code, file_name, size, sm3, media_type, source, created_at FROM approval_material
    WHERE project_id = $1 AND material_code = $2 AND sm3 = $3 AND withdrawn_at IS NULL LIMIT 1"""
EARLIER = """
    WITH distinct_files AS (
        SELECT DISTINCT ON (material_code, sm3) id, project_id, material_code, file_name, size, sm3, media_type,
               source, created_at
        FROM approval_material
        WHERE org_id = $1 AND project_id <> $2 AND withdrawn_at IS NULL AND material_code = ANY($3)
        ORDER BY material_code, sm3, created_at DESC
    ), ranked AS (
        SELECT f.*, row_number() OVER (PARTITION BY f.material_code ORDER BY f.created_at DESC) AS n
        FROM distinct_files f
    )
    SELECT r.id, r.material_code AS code, r.file_name, r.size, r.sm3, r.media_type, r.source, r.created_at,
           p.name AS project_name, p.code AS project_code
    FROM ranked r JOIN project p ON p.id = r.project_id
    WHERE r.n <= $4 ORDER BY r.material_code, r.created_at DESC"""
ONE = """
    SELECT id, project_id, org_id, material_code, file_name, size, sm3, media_type, withdrawn_at
    FROM approval_material WHERE id = $1"""
WITHDRAW = """
    UPDATE approval_material SET withdrawn_at = now()
    WHERE id = $1 AND project_id = $2 AND withdrawn_at IS NULL
    RETURNING id, material_code AS code, file_name, size, sm3, media_type, source, created_at"""
SIGNED_FILES = """
    SELECT DISTINCT ON (material_code, sm3) material_code AS code, sm3, file_name, size, media_type
    FROM approval_material WHERE project_id = $1 AND material_code = ANY($2) AND sm3 = ANY($3)
    ORDER BY material_code, sm3, created_at DESC"""


def catalogue_materials(catalogue: Catalogue) -> dict[str, str]:
    """Every material code of the catalogue, with its name (the first item's, when items share one)."""
    names: dict[str, str] = {}
    for compiled in catalogue.items:
        for material in compiled.item.materials:
            names.setdefault(material.code, material.name)
    return names


def known_code(catalogue: Catalogue, code: str) -> str:
    """The material's name; 422 when the published catalogue has no material `code`."""
    name = catalogue_materials(catalogue).get(code)
    if name is None:
        raise InvalidInput(
            "事项目录中没有这种申报材料",
            fields=[{"field": "material_code", "message": "未知的材料代码", "type": "unknown"}],
        )
    return name


def checked_file(head: bytes, size: int, raw_name: str) -> tuple[str, sniff.FileType]:
    """The name to store and the type of an uploaded material, from its first bytes and size: 422 when
    empty, 415 unless its first bytes are PDF, JPEG, PNG or TIFF and its name's extension says the same."""
    if size == 0:
        raise InvalidInput("请选择要上传的文件", fields=[{"field": "file", "message": "文件为空",
                                                        "type": "missing"}])  # fmt: skip
    name = sniff.sanitise_name(raw_name)
    found = sniff.sniff(head[: sniff.HEAD_BYTES])
    if found not in ALLOWED:
        raise sniff.UnsupportedFileType("文件类型不允许：申报材料仅限 PDF、JPEG、PNG、TIFF 文件")
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > 0 else ""
    if extension not in found.extensions:
        raise sniff.UnsupportedFileType(
            f"文件内容是 {found.extensions[0][1:].upper()}，与文件名的扩展名不符（须为 {'、'.join(found.extensions)}）"
        )
    return name, found


def _audit(
    user: CurrentUser, action: str, project_id: UUID, row: Any, ip: str | None, **more: Any
) -> AuditRecord:
    return AuditRecord(
        action=action, actor_id=user.id, actor_login=user.login, org_id=user.org_id, ip=ip,
        target=f"approval_material:{row['id']}",
        detail={"project_id": str(project_id), "material_code": row["code"], "sm3": row["sm3"],
                "size": row["size"], "file_name": row["file_name"], **more},
    )  # fmt: skip


async def upload(
    conn: Any, audit_key: bytes, user: CurrentUser, project_id: UUID, code: str, name: str, media_type: str,
    blob: StoredBlob, ip: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Record the stored `blob` (checked by `checked_file`) as material `code` of the project; the same file
    attached under the same code already is answered as it is (nothing written twice)."""
    async with conn.transaction():
        same = await conn.fetchrow(ATTACHED_SAME, project_id, code, blob.sm3)
        if same is not None:
            return dict(same)
        await conn.execute(INSERT_BLOB, blob.sm3, blob.size, media_type)
        row = await conn.fetchrow(INSERT, uuid.uuid4(), project_id, user.org_id, code, name, blob.sm3, blob.size,
                                  media_type, "upload", None, user.id)  # fmt: skip
        await audit.append(conn, audit_key, _audit(user, "kaigong.material.upload", project_id, row, ip))
    return dict(row)


async def reuse(
    conn: Any,
    audit_key: bytes,
    user: CurrentUser,
    project_id: UUID,
    code: str,
    material_id: UUID,
    ip: str | None,
) -> dict[str, Any]:
    """Link the enterprise's earlier material `material_id` (of code `code`) to this project: the same blob,
    no new bytes. 404 for another enterprise's material (or one removed), 422 for another code."""
    async with conn.transaction():
        source = await conn.fetchrow(ONE, material_id)
        if source is None or source["org_id"] != user.org_id or source["withdrawn_at"] is not None:
            raise NotFound("没有找到本单位以前提交的这份材料")
        if source["material_code"] != code:
            raise InvalidInput("这份材料是另一种申报材料，不能用于此处", fields=[
                {"field": "material_id", "message": "材料种类不符", "type": "mismatch"}])  # fmt: skip
        same = await conn.fetchrow(ATTACHED_SAME, project_id, code, source["sm3"])
        if same is not None:
            return dict(same)
        row = await conn.fetchrow(INSERT, uuid.uuid4(), project_id, user.org_id, code, source["file_name"],
                                  source["sm3"], source["size"], source["media_type"], "reuse", material_id,
                                  user.id)  # fmt: skip
        await audit.append(conn, audit_key, _audit(user, "kaigong.material.reuse", project_id, row, ip,
                                                   reused_from=str(material_id),
                                                   from_project_id=str(source["project_id"])))  # fmt: skip
    return dict(row)


async def withdraw(
    conn: Any, audit_key: bytes, user: CurrentUser, project_id: UUID, material_id: UUID, ip: str | None
) -> dict[str, Any]:
    """Remove an attached material from the project's form (the row stays, with withdrawn_at); 404 when it
    is not attached to this project."""
    async with conn.transaction():
        row = await conn.fetchrow(WITHDRAW, material_id, project_id)
        if row is None:
            raise NotFound("本项目没有这份材料")
        await audit.append(conn, audit_key, _audit(user, "kaigong.material.withdraw", project_id, row, ip))
    return dict(row)


async def attached(conn: Any, project_id: UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(ATTACHED, project_id)]


async def earlier(conn: Any, org_id: UUID, project_id: UUID, codes: Sequence[str]) -> list[dict[str, Any]]:
    """The enterprise's files of these codes attached to its other projects: newest first, each file once,
    at most five per code."""
    rows = await conn.fetch(EARLIER, org_id, project_id, list(codes), EARLIER_PER_CODE)
    return [dict(r) for r in rows]


def _problem(code: str, message: str, type_: str) -> dict[str, str]:
    return {"field": f"materials.{code}", "message": message, "type": type_}


async def signed_problems(
    conn: Any, project_id: UUID, merged: MergedForm, signed: Any
) -> list[dict[str, str]]:
    """What is wrong with a signed submission's `materials` ({code: [sm3, …]}): a code the form does not ask
    for, an SM3 that is not a file attached to this project under that code, a required material with no
    file. Empty when it is right."""
    if not isinstance(signed, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(s, str) for s in v)
        for k, v in signed.items()
    ):
        return [{"field": "signed.materials", "message": "应为 {材料代码: [SM3, …]}", "type": "invalid"}]
    needed = {m.material.code: m for m in merged.materials}
    have: dict[str, set[str]] = {}
    for row in await conn.fetch(ATTACHED, project_id):
        have.setdefault(row["code"], set()).add(row["sm3"])
    problems = []
    for code, digests in sorted(signed.items()):
        if code not in needed:
            problems.append(_problem(code, "本次申报不需要这种材料", "not_needed"))
        elif any(d not in have.get(code, set()) for d in digests):
            problems.append(_problem(code, "签名中的文件不是本项目已上传的该材料", "unknown_file"))
    for code, material in needed.items():
        if material.required and not signed.get(code):
            problems.append(_problem(code, f"请上传{material.material.name}", "missing"))
    return problems


async def signed_files(
    conn: Any, project_id: UUID, digests: dict[str, list[str]]
) -> dict[tuple[str, str], Any]:
    """The stored name, size and type of each (code, sm3) a signed application names (withdrawn rows too:
    the application keeps what it signed)."""
    codes = list(digests)
    sm3s = sorted({s for found in digests.values() for s in found if _is_sm3(s)})
    rows = await conn.fetch(SIGNED_FILES, project_id, codes, sm3s) if sm3s else []
    return {(r["code"], r["sm3"]): dict(r) for r in rows}


def _is_sm3(text: str) -> bool:
    return len(text) == 64 and set(text) <= SM3_HEX


async def record_download(
    conn: Any, audit_key: bytes, user: CurrentUser, case_id: UUID, project_id: UUID, file: dict[str, Any],
    ip: str | None,
) -> None:  # fmt: skip
    async with conn.transaction():
        await audit.append(conn, audit_key, AuditRecord(
            action="kaigong.material.download", actor_id=user.id, actor_login=user.login, org_id=user.org_id,
            ip=ip, target=f"approval_case:{case_id}",
            detail={"project_id": str(project_id), "material_code": file["code"], "sm3": file["sm3"],
                    "size": file["size"], "file_name": file["file_name"]},
        ))  # fmt: skip
