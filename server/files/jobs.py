"""arq jobs of the file service: `sweep_expired_uploads` removes unfinished uploads past their expiry
(rows and bytes), run every few minutes by the worker's cron and on demand.

Must not: touch finished uploads or stored files (versions point at them).
"""

from __future__ import annotations

import logging
from typing import Any

from server.files import sql
from server.files.storage import LocalStorage

logger = logging.getLogger(__name__)

SWEEP_BATCH = 1000


async def sweep_expired_uploads(ctx: dict[str, Any]) -> int:
    storage = LocalStorage(ctx["settings"].files_path)
    removed = 0
    while True:
        async with ctx["pool"].acquire() as conn:
            ids = [r["id"] for r in await conn.fetch(sql.EXPIRED, SWEEP_BATCH)]
            if ids:
                await conn.execute(sql.DELETE_MANY, ids)
        for upload_id in ids:
            await storage.delete_part(upload_id)
        removed += len(ids)
        if len(ids) < SWEEP_BATCH:
            break
    if removed:
        logger.info("upload.swept", extra={"count": removed})
    return removed
