"""Demo data of model checking: the demo supplier's sample model (`bim.sample`) submitted to the demo
bid session, through the same storage and check record a real submission gets, and its check enqueued
for the worker, so `make run` opens with a report to look at.

Must not: run outside `tongban seed`, or submit again once the session has a check.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

from bim.sample import write_sample
from server.bim.checks import create_check
from server.bim.jobs import JOB_NAME, job_id
from server.errors import TongbanError
from server.files.storage import Storage
from server.files.versions import INSERT_BLOB
from server.seed import seed_actor

logger = logging.getLogger(__name__)

HAS_CHECK = "SELECT EXISTS (SELECT 1 FROM bim_check WHERE bid_id = $1)"
FILE_NAME = "1号楼投标模型.ifc"


async def seed_sample_check(
    pool: Any, storage: Storage, arq: Any, audit_key: bytes, bid_id: UUID, supplier_id: UUID
) -> UUID | None:
    """The id of the demo check made now, or None when the session has one already (or cannot take one)."""
    async with pool.acquire() as conn:
        if await conn.fetchval(HAS_CHECK, bid_id):
            return None
        supplier = await seed_actor(conn, supplier_id)  # the check records only who submitted
    with tempfile.TemporaryDirectory(prefix="tongban-seed-") as folder:
        data = await asyncio.to_thread(lambda: write_sample(Path(folder) / "sample.ifc").read_bytes())
    part = uuid.uuid4()
    await storage.create_part(part)
    writer = await storage.open_part(part, 0)
    await writer.write(data)
    await writer.commit()
    blob = await storage.store([part])
    await storage.delete_part(part)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_BLOB, blob.sm3, blob.size, "application/x-step")
            check_id = await create_check(
                conn, audit_key, bid_id=bid_id, user=supplier, blob_sm3=blob.sm3, file_name=FILE_NAME,
                size=blob.size, upload_id=uuid.uuid4(), ip=None,
            )  # fmt: skip
    except TongbanError as exc:  # no rule set pinned: nothing to check against
        logger.warning("seed.sample_check_skipped", extra={"reason": exc.detail})
        return None
    await arq.enqueue_job(JOB_NAME, str(check_id), _job_id=job_id(check_id))
    return check_id
