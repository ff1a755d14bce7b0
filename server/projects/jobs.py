"""arq jobs of the project registry.

`open_project_archive` opens a project's electronic archive (项目电子档案): a numbered archive row
and its folder with a manifest of the sections every project file will fill, then reports the
archive number back to the project actor through the actor inbox.
Must not: change actor state directly, or take anything but ids as arguments.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any
from uuid import UUID

from actors.inbox import send
from actors.project.actor import project_address
from actors.project.messages import RecordArchiveOpened
from server.projects import sql

logger = logging.getLogger(__name__)

ARCHIVE_SECTIONS = ("立项用地规划许可", "工程建设许可", "施工许可", "竣工验收")


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(folder / "manifest.json")


async def open_project_archive(ctx: dict[str, Any], project_id: str) -> str | None:
    pid = UUID(project_id)
    pool, settings = ctx["pool"], ctx["settings"]
    async with pool.acquire() as conn, conn.transaction():
        project = await conn.fetchrow(sql.LOCK_PROJECT, pid)
        if project is None:
            logger.error("project.archive_for_missing_project", extra={"project_id": project_id})
            return None
        manifest = {
            "project_code": project["code"],
            "project_name": project["name"],
            "sections": ARCHIVE_SECTIONS,
        }
        await conn.execute(sql.OPEN_ARCHIVE, pid, manifest)
        archive = await conn.fetchrow(sql.ARCHIVE_OF, pid)
    folder = settings.var_path / "archive" / project_id
    await asyncio.to_thread(
        _write_manifest, folder, {**archive["manifest"], "archive_no": archive["archive_no"]}
    )
    await send(
        ctx["redis"],
        settings.redis_prefix,
        project_address(pid),
        RecordArchiveOpened(archive_no=archive["archive_no"], job_id=ctx.get("job_id")),
    )
    logger.info("project.archive_written", extra={"project_id": project_id})
    return str(archive["archive_no"])
