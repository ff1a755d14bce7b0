"""The drawings register of a project: buildings (单体), the catalogue of drawings (图纸目录) imported in
batches, the paged catalogue search and one entry with its versions (版次).

Every function takes a connection and plain values; the caller has checked access
(`server.files.access`). Catalogue changes are audited in the same transaction.
Must not: touch file bytes, or check access itself.
"""

from __future__ import annotations

import math
import uuid
from typing import Any
from uuid import UUID

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, InvalidInput, NotFound
from server.files import catalogue_sql as sql
from server.files.models import (
    KIND_LABELS,
    PAGE_SIZE,
    BuildingIn,
    BuildingOut,
    DrawingDetail,
    DrawingOut,
    DrawingPage,
    DrawingQuery,
    EntryIn,
    SearchEcho,
    VersionOut,
)
from server.identity.models import CurrentUser


async def create_building(
    conn: Any, audit_key: bytes, project_id: UUID, body: BuildingIn, by: CurrentUser, ip: str | None
) -> BuildingOut:
    async with conn.transaction():
        row = await conn.fetchrow(sql.INSERT_BUILDING, uuid.uuid4(), project_id, body.name, body.code, by.id)
        if row is None:
            raise Conflict(f"单体“{body.name}”已存在")
        await audit.append(conn, audit_key, AuditRecord(
            action="drawing.building", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"building:{row['id']}", detail={"project_id": str(project_id), "name": body.name},
        ))  # fmt: skip
    return BuildingOut(**dict(row))


async def buildings(conn: Any, project_id: UUID) -> list[BuildingOut]:
    return [BuildingOut(**dict(row)) for row in await conn.fetch(sql.BUILDINGS, project_id)]


async def import_entries(
    conn: Any, audit_key: bytes, project_id: UUID, entries: list[EntryIn], by: CurrentUser, ip: str | None
) -> list[DrawingOut]:
    """Create or update catalogue entries; an entry is named by (单体, 类型, 图号), so importing the same
    list again changes nothing. A later duplicate in one batch wins. Returns the entries in the
    order first given."""
    wanted = {e.building_id for e in entries}
    found = {r["id"] for r in await conn.fetch(sql.BUILDINGS_OF_PROJECT, project_id, list(wanted))}
    foreign = [
        {
            "field": f"entries.{i}.building_id",
            "message": "单体不存在或不属于本项目",
            "type": "unknown_building",
        }
        for i, e in enumerate(entries)
        if e.building_id not in found
    ]
    if foreign:
        raise InvalidInput("图纸目录中有不属于本项目的单体", fields=foreign[:20])
    latest: dict[tuple[UUID, str, str], EntryIn] = {}
    for entry in entries:
        latest[(entry.building_id, entry.kind, entry.number)] = entry
    keys = sorted(latest, key=lambda k: (str(k[0]), k[1], k[2]))  # one lock order for concurrent imports
    rows = [latest[k] for k in keys]
    async with conn.transaction():
        changed = await conn.fetch(
            sql.UPSERT_ENTRIES, project_id, [uuid.uuid4() for _ in rows], [r.building_id for r in rows],
            [r.kind for r in rows], [r.discipline for r in rows], [r.number for r in rows], [r.title for r in rows],
        )  # fmt: skip
        created = sum(1 for r in changed if r["inserted"])
        await audit.append(conn, audit_key, AuditRecord(
            action="drawing.catalogue", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"project:{project_id}",
            detail={"entries": len(rows), "created": created, "updated": len(changed) - created},
        ))  # fmt: skip
        stored = await conn.fetch(
            sql.DRAWINGS_BY_KEY, project_id, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]
        )
    by_key = {(r["building_id"], r["kind"], r["number"]): drawing_out(r) for r in stored}
    order = list(dict.fromkeys((e.building_id, e.kind, e.number) for e in entries))
    return [by_key[k] for k in order]


def like_pattern(text: str) -> str:
    """A case-insensitive substring pattern in which % and _ (and the escape \\) are literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(conn: Any, project_id: UUID, query: DrawingQuery) -> DrawingPage:
    """One page (10 rows) of the entries matching every given filter; a page past the end is empty."""
    pattern = like_pattern(query.q) if query.q else None
    filters = (project_id, pattern, query.building_id, query.discipline, query.kind, query.version)
    total: int = await conn.fetchval(sql.SEARCH_COUNT, *filters)
    rows = await conn.fetch(sql.SEARCH, *filters, PAGE_SIZE, (query.page - 1) * PAGE_SIZE)
    echo = SearchEcho(
        q=query.q,
        building_id=query.building_id,
        discipline=query.discipline,
        kind=query.kind,
        version=query.version,
    )
    return DrawingPage(
        items=[drawing_out(r) for r in rows], page=query.page, pages=max(1, math.ceil(total / PAGE_SIZE)),
        total=total, page_size=PAGE_SIZE, query=echo,
    )  # fmt: skip


async def drawing_project(conn: Any, drawing_id: UUID) -> UUID:
    """The project of an entry (for the access check before anything else is read); 404 if none."""
    project_id: UUID | None = await conn.fetchval(sql.DRAWING_PROJECT, drawing_id)
    if project_id is None:
        raise NotFound("图纸不存在或无权查看")
    return project_id


async def drawing_detail(conn: Any, drawing_id: UUID) -> DrawingDetail:
    row = await conn.fetchrow(sql.DRAWING, drawing_id)
    if row is None:
        raise NotFound("图纸不存在或无权查看")
    versions = [VersionOut(**dict(v)) for v in await conn.fetch(sql.VERSIONS, drawing_id)]
    return DrawingDetail(**drawing_out(row).model_dump(), versions=versions)


def drawing_out(row: Any) -> DrawingOut:
    latest = None
    if row["lv_version"] is not None:
        latest = VersionOut(
            version=row["lv_version"], file_name=row["lv_file_name"], size=row["lv_size"],
            media_type=row["lv_media_type"], sm3=row["lv_sm3"], uploaded_by=row["lv_uploaded_by"],
            created_at=row["lv_created_at"],
        )  # fmt: skip
    return DrawingOut(
        id=row["id"], project_id=row["project_id"], building_id=row["building_id"],
        building_name=row["building_name"], kind=row["kind"], kind_label=KIND_LABELS[row["kind"]],
        discipline=row["discipline"], number=row["number"], title=row["title"],
        latest_version=row["latest_version"], latest=latest,
    )  # fmt: skip
