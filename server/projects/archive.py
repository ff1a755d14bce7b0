"""The project electronic archive (项目电子档案): every document of a project from 立项 to 竣工验收, recorded
as it happens by the code that makes it — a signed 开工一件事 application and each item's decision (施工许可),
an issued deliverable (by its kind's stage), a drawing version (施工图: 工程建设许可, 竣工图: 竣工验收) — in
the writer's own transaction, with the SM3 of what it records. Rows are only added (the database refuses
changes); recording the same document twice records it once.
Must not: decide who may read the archive (the route does), or hold documents (only references).
"""

from __future__ import annotations

from typing import Any, Final, Literal
from uuid import UUID

Stage = Literal["立项用地规划许可", "工程建设许可", "施工许可", "竣工验收"]
STAGES: Final[tuple[Stage, ...]] = ("立项用地规划许可", "工程建设许可", "施工许可", "竣工验收")

RECORD = """
    INSERT INTO project_archive_entry (project_id, stage, kind, title, ref, sm3, by_user)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, kind, ref) DO NOTHING"""
ENTRIES = """
    SELECT e.stage, e.kind, e.title, e.ref, e.sm3, e.at, u.login AS by_login
    FROM project_archive_entry e LEFT JOIN app_user u ON u.id = e.by_user
    WHERE e.project_id = $1 ORDER BY e.at, e.id"""


async def record(
    conn: Any, project_id: UUID, stage: Stage, kind: str, title: str, ref: str, sm3: str | None = None,
    by: UUID | None = None,
) -> None:  # fmt: skip
    await conn.execute(RECORD, project_id, stage, kind, title[:200], ref, sm3, by)


async def entries(conn: Any, project_id: UUID) -> dict[str, list[dict[str, Any]]]:
    """The archive by stage, in the order of the stages, each stage's documents in time order."""
    grouped: dict[str, list[dict[str, Any]]] = {stage: [] for stage in STAGES}
    for row in await conn.fetch(ENTRIES, project_id):
        grouped[row["stage"]].append(dict(row))
    return grouped
