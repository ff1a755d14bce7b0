"""The item catalogue as versioned data in the database: create a catalogue with its draft version 1,
save the draft (checked whole, with the revision the editor started from: a stale one is refused),
publish it as an immutable numbered version (its canonical JSON digested with SM3), start the next
draft from the latest published version, read versions, and seed the demo catalogue from JSON.

Every write locks its row first (FOR NO KEY UPDATE: the version row for a save or publish, the
catalogue row for a new draft), checks, then writes and appends its audit entry in one transaction,
so a refused write stores nothing. Stored content is the checked model dumped with every default
filled in, so a published version never depends on a default that may change later.
Must not: import Starlette, or change a published version (the database trigger of 0012 refuses it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict

from server.approval import catalogue
from server.approval.applicability import Problem
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, NotFound
from server.identity.models import Author
from server.security.sm3 import sm3_hex

logger = logging.getLogger(__name__)

CATALOGUE_NAME: Final = "上海市建设项目开工“一件事”事项目录"
SEED_PATH: Final = Path(__file__).parent / "data" / "catalogue_2026.json"
_COMPILED_CACHE_SIZE: Final = 16  # published versions kept compiled (the live one and a few pinned by cases)

_SUMMARY = """
    SELECT v.id, v.catalogue_id, c.name AS catalogue_name, v.version, v.status, v.revision, v.summary,
           v.content_sm3, cu.login AS created_by_login, v.created_at, pu.login AS published_by_login,
           v.published_at"""
_FROM = """
    FROM approval_catalogue_version v
    JOIN approval_catalogue c ON c.id = v.catalogue_id
    JOIN app_user cu ON cu.id = v.created_by
    LEFT JOIN app_user pu ON pu.id = v.published_by"""
VERSIONS = _SUMMARY + _FROM + " WHERE v.catalogue_id = $1 ORDER BY v.version DESC"
VERSION = _SUMMARY + ", v.content" + _FROM + " WHERE v.id = $1"
PUBLISHED_LATEST = (
    _SUMMARY + ", v.content" + _FROM
    + " WHERE v.catalogue_id = $1 AND v.status = 'published' ORDER BY v.version DESC LIMIT 1"
)  # fmt: skip
PUBLISHED_NUMBER = (
    _SUMMARY
    + ", v.content"
    + _FROM
    + " WHERE v.catalogue_id = $1 AND v.status = 'published' AND v.version = $2"
)
CATALOGUE_BY_NAME = "SELECT id FROM approval_catalogue WHERE name = $1"
INSERT_CATALOGUE = "INSERT INTO approval_catalogue (id, name, created_by) VALUES ($1, $2, $3)"
INSERT_VERSION = """
    INSERT INTO approval_catalogue_version (id, catalogue_id, version, status, content, summary, created_by)
    VALUES ($1, $2, $3, 'draft', $4, $5, $6)"""
LOCK_CATALOGUE = "SELECT id FROM approval_catalogue WHERE id = $1 FOR NO KEY UPDATE"
LOCK_VERSION = """
    SELECT catalogue_id, version, status, revision, content FROM approval_catalogue_version
    WHERE id = $1 FOR NO KEY UPDATE"""
LATEST = "SELECT version, status, content FROM approval_catalogue_version WHERE catalogue_id = $1 ORDER BY version DESC"
SAVE_DRAFT = """
    UPDATE approval_catalogue_version SET content = $2, summary = $3, revision = revision + 1
    WHERE id = $1 AND status = 'draft' RETURNING revision"""
PUBLISH = """
    UPDATE approval_catalogue_version
    SET status = 'published', content_sm3 = $2, summary = $3, published_by = $4, published_at = now()
    WHERE id = $1 AND status = 'draft'"""
DEPARTMENTS = "SELECT code FROM organization WHERE kind = 'department' AND code = ANY($1::text[])"
USER = "SELECT id, login, org_id FROM app_user WHERE id = $1"


class VersionSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    catalogue_id: UUID
    catalogue_name: str
    version: int
    status: str
    revision: int
    summary: str
    content_sm3: str | None
    created_by_login: str
    created_at: datetime
    published_by_login: str | None
    published_at: datetime | None


class VersionDetail(VersionSummary):
    content: dict[str, Any]


def canonical_bytes(content: Mapping[str, Any]) -> bytes:
    """The byte form `content_sm3` digests: sorted keys, no spaces, UTF-8 (as BIM rule sets)."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def content_digest(content: Mapping[str, Any]) -> str:
    return sm3_hex(canonical_bytes(content))


async def checked_content(conn: Any, raw: object) -> dict[str, Any]:
    """The content to store: `catalogue.check` passed and every department code names a department in
    the organisation table; defaults filled in. Raises InvalidInput naming every problem."""
    content = catalogue.check(raw)
    codes = sorted({item.dept_code for item in content.items})
    known = {r["code"] for r in await conn.fetch(DEPARTMENTS, codes)}
    missing = [
        Problem(f"items.{i}.dept_code", f"没有部门代码为 {item.dept_code} 的审批部门", "unknown_department")
        for i, item in enumerate(content.items)
        if item.dept_code not in known
    ]
    if missing:
        raise catalogue.invalid(missing)
    return content.model_dump(mode="json")


def _record(by: Author, ip: str | None, action: str, target: str, **detail: Any) -> AuditRecord:
    return AuditRecord(action=action, actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
                       target=target, detail=detail)  # fmt: skip


async def find_catalogue(conn: Any, name: str = CATALOGUE_NAME) -> UUID | None:
    found: UUID | None = await conn.fetchval(CATALOGUE_BY_NAME, name)
    return found


async def get_catalogue(conn: Any, name: str = CATALOGUE_NAME) -> UUID:
    found = await find_catalogue(conn, name)
    if found is None:
        raise NotFound("事项目录尚未建立")
    return found


async def create_catalogue(
    conn: Any, audit_key: bytes, name: str, raw: object, by: Author, ip: str | None
) -> VersionDetail:
    """A new catalogue and its draft version 1 holding `raw` (checked)."""
    content = await checked_content(conn, raw)
    catalogue_id, version_id = uuid.uuid4(), uuid.uuid4()
    try:
        async with conn.transaction():
            await conn.execute(INSERT_CATALOGUE, catalogue_id, name, by.id)
            await conn.execute(INSERT_VERSION, version_id, catalogue_id, 1, content, "新建事项目录", by.id)
            await audit.append(conn, audit_key, _record(
                by, ip, "approval.catalogue.create", f"approval_catalogue:{catalogue_id}", name=name,
                version_id=str(version_id),
            ))  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("事项目录名称已存在") from exc
    return await get_version(conn, version_id)


async def list_versions(conn: Any, catalogue_id: UUID) -> list[VersionSummary]:
    return [VersionSummary.model_validate(dict(r)) for r in await conn.fetch(VERSIONS, catalogue_id)]


async def get_version(conn: Any, version_id: UUID) -> VersionDetail:
    row = await conn.fetchrow(VERSION, version_id)
    if row is None:
        raise NotFound("事项目录版本不存在")
    return VersionDetail.model_validate(dict(row))


async def get_published(conn: Any, catalogue_id: UUID, number: int | None = None) -> VersionDetail:
    """The latest published version, or published version `number`; NotFound if there is none."""
    if number is None:
        row = await conn.fetchrow(PUBLISHED_LATEST, catalogue_id)
    else:
        row = await conn.fetchrow(PUBLISHED_NUMBER, catalogue_id, number)
    if row is None:
        raise NotFound("事项目录尚无已发布版本" if number is None else f"事项目录没有已发布的第 {number} 版")
    return VersionDetail.model_validate(dict(row))


async def _locked_draft(conn: Any, version_id: UUID, expected_revision: int) -> Any:
    row = await conn.fetchrow(LOCK_VERSION, version_id)
    if row is None:
        raise NotFound("事项目录版本不存在")
    if row["status"] != "draft":
        raise Conflict("已发布的事项目录版本不可修改")
    if row["revision"] != expected_revision:
        raise Conflict(
            "该草稿已被他人修改，请刷新后在最新内容上重新编辑", revision=row["revision"], expected=expected_revision
        )  # fmt: skip
    return row


async def save_draft(
    conn: Any, audit_key: bytes, version_id: UUID, raw: object, expected_revision: int, summary: str,
    by: Author, ip: str | None,
) -> VersionDetail:  # fmt: skip
    """Replace the draft's content with `raw` (checked whole before the lock; nothing stored if any
    check fails) when the draft is still at `expected_revision`; the revision goes up by one."""
    content = await checked_content(conn, raw)
    async with conn.transaction():
        row = await _locked_draft(conn, version_id, expected_revision)
        revision = await conn.fetchval(SAVE_DRAFT, version_id, content, summary)
        await audit.append(conn, audit_key, _record(
            by, ip, "approval.catalogue.draft_save", f"approval_catalogue_version:{version_id}",
            catalogue_id=str(row["catalogue_id"]), version=row["version"], revision=revision, summary=summary,
        ))  # fmt: skip
    return await get_version(conn, version_id)


async def publish(
    conn: Any, audit_key: bytes, version_id: UUID, expected_revision: int, summary: str | None, by: Author,
    ip: str | None,
) -> VersionDetail:  # fmt: skip
    """Freeze the draft exactly as last saved, with its SM3. A draft that no longer passes the checks
    (a department removed since it was saved) is refused: what is published is what was reviewed."""
    async with conn.transaction():
        row = await _locked_draft(conn, version_id, expected_revision)
        await checked_content(conn, row["content"])
        digest = content_digest(row["content"])
        await conn.execute(PUBLISH, version_id, digest, summary or "", by.id)
        await audit.append(conn, audit_key, _record(
            by, ip, "approval.catalogue.publish", f"approval_catalogue_version:{version_id}",
            catalogue_id=str(row["catalogue_id"]), version=row["version"], content_sm3=digest,
        ))  # fmt: skip
    logger.info(
        "approval.catalogue_published", extra={"version_id": str(version_id), "version": row["version"]}
    )
    return await get_version(conn, version_id)


async def new_draft(
    conn: Any, audit_key: bytes, catalogue_id: UUID, by: Author, ip: str | None
) -> VersionDetail:
    """The next version as a draft, copied from the latest published one; one draft at a time."""
    version_id = uuid.uuid4()
    async with conn.transaction():
        if await conn.fetchval(LOCK_CATALOGUE, catalogue_id) is None:
            raise NotFound("事项目录不存在")
        versions = await conn.fetch(LATEST, catalogue_id)
        if any(v["status"] == "draft" for v in versions):
            raise Conflict("事项目录已有草稿，请先编辑或发布该草稿")
        if not versions:
            raise NotFound("事项目录没有可复制的已发布版本")
        source = versions[0]  # no draft, so the latest is published
        number = source["version"] + 1
        summary = f"由第 {source['version']} 版复制"
        await conn.execute(
            INSERT_VERSION, version_id, catalogue_id, number, source["content"], summary, by.id
        )
        await audit.append(conn, audit_key, _record(
            by, ip, "approval.catalogue.draft_new", f"approval_catalogue_version:{version_id}",
            catalogue_id=str(catalogue_id), version=number, from_version=source["version"],
        ))  # fmt: skip
    return await get_version(conn, version_id)


_compiled: dict[str, catalogue.Catalogue] = {}


def compiled(version: VersionDetail) -> catalogue.Catalogue:
    """The version's content checked and compiled; published versions are kept by their SM3 (they
    never change), drafts are compiled on every call."""
    if version.content_sm3 is None:
        return catalogue.load(version.content)
    found = _compiled.get(version.content_sm3)
    if found is None:
        found = catalogue.load(version.content)
        if len(_compiled) >= _COMPILED_CACHE_SIZE:
            _compiled.pop(next(iter(_compiled)))
        _compiled[version.content_sm3] = found
    return found


class SeedUser(BaseModel):
    id: UUID
    login: str
    org_id: UUID


async def seed_catalogue(
    pool: Any, audit_key: bytes, admin_user_id: UUID, path: Path = SEED_PATH, name: str = CATALOGUE_NAME
) -> UUID:
    """The published version of the demo catalogue, made from `path` now unless the catalogue already
    has one (an administrator's later versions are left alone); returns the published version's id."""
    raw = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    async with pool.acquire() as conn:
        row = await conn.fetchrow(USER, admin_user_id)
        if row is None:
            raise LookupError(f"seed user {admin_user_id} is missing: seed the accounts first")
        admin = SeedUser.model_validate(dict(row))
        catalogue_id = await find_catalogue(conn, name)
        if catalogue_id is None:
            draft = await create_catalogue(conn, audit_key, name, raw, admin, None)
        else:
            try:
                return (await get_published(conn, catalogue_id)).id
            except NotFound:
                versions = await list_versions(conn, catalogue_id)  # an earlier run stopped before publishing
                draft = await get_version(conn, versions[0].id)
        note = "演示数据：开工一件事事项目录首次发布"
        done = await publish(conn, audit_key, draft.id, draft.revision, note, admin, None)
    return done.id
