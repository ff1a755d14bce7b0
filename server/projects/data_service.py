"""The project registry's structured data (项目基本信息: 用地、规划、施工许可): a form schema shipped as data
(`server/projects/data/project_data.json`, the collab form machinery validates it), one revisioned document
per project, and its values flattened for prefilling other forms (a key of the 开工一件事 catalogue that is
also a key here takes this value).
Must not: decide who may read or edit it (the routes do), or store values that fail the schema's rules.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from uuid import UUID

from collab.schema import FieldsSection, FormSchema
from collab.validation import validate
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, InvalidInput
from server.identity.models import CurrentUser

SCHEMA_PATH = Path(__file__).parent / "data" / "project_data.json"
READ = "SELECT content, revision FROM project_data WHERE project_id = $1"
SAVE = """
    INSERT INTO project_data (project_id, content, revision, updated_by) VALUES ($1, $2, 1, $3)
    ON CONFLICT (project_id) DO UPDATE
        SET content = EXCLUDED.content, revision = project_data.revision + 1, updated_by = EXCLUDED.updated_by,
            updated_at = now()
        WHERE project_data.revision = $4
    RETURNING revision"""


@functools.cache
def schema() -> FormSchema:
    return FormSchema.model_validate_json(SCHEMA_PATH.read_bytes())


def canonical(sections: dict[str, Any]) -> dict[str, Any]:
    """Only the declared sections and fields, in schema order (unknown keys dropped)."""
    out: dict[str, Any] = {}
    for section in schema().sections:
        if isinstance(section, FieldsSection):
            raw = sections.get(section.key)
            given: dict[str, Any] = raw if isinstance(raw, dict) else {}
            out[section.key] = {f.key: given.get(f.key) for f in section.fields}
    return out


async def read(conn: Any, project_id: UUID) -> tuple[dict[str, Any], int]:
    row = await conn.fetchrow(READ, project_id)
    if row is None:
        return canonical({}), 0
    return row["content"], row["revision"]


async def save(
    conn: Any, audit_key: bytes, project_id: UUID, sections: dict[str, Any], revision: int, by: CurrentUser,
    ip: str | None,
) -> int:  # fmt: skip
    content = canonical(sections)
    errors = validate(schema(), {"sections": content})
    if errors:
        raise InvalidInput("项目基本信息有错误", fields=[
            {"field": e.path, "message": e.message, "type": e.code} for e in errors])  # fmt: skip
    async with conn.transaction():
        saved: int | None = await conn.fetchval(SAVE, project_id, content, by.id, revision)
        if saved is None or (revision == 0 and saved != 1):
            raise Conflict("项目基本信息已被他人更新，请刷新后再修改")
        await audit.append(conn, audit_key, AuditRecord(
            action="project.data_save", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"project:{project_id}", detail={"revision": saved},
        ))  # fmt: skip
    return saved


def flat(content: dict[str, Any]) -> dict[str, Any]:
    """Field key → value of every filled-in field (for prefilling forms that share the keys)."""
    return {k: v for section in content.values() if isinstance(section, dict) for k, v in section.items()
            if v not in (None, "")}  # fmt: skip
