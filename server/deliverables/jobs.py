"""arq jobs of the deliverables: render one queued document, and requeue those whose job was lost.

Rendering is CPU-bound (ezdxf, PyMuPDF, reportlab: 0.1–3 s a document), so it runs in a pool of
`docgen_processes` spawned processes per worker, never on the worker's event loop; the loop only stores
the files (content-addressed, `server.files.storage`) and reports to the deliverable actor, which the
requesting user's page watches. Data that does not make a complete document ends the job as `failed`
with every problem listed (not retried); anything else is retried by arq.
Must not: sign or issue (a person does that after looking at the preview), or take objects as arguments.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from actors.deliverable.actor import deliverable_address
from actors.deliverable.messages import ReportFailed, ReportProgress, ReportRendered
from actors.inbox import send
from docgen.output import Rendered
from docgen.stamp import Stamp
from server.deliverables import sql
from server.deliverables.service import JOB_NAME, job_id, open_data
from server.files.storage import LocalStorage
from server.keystore import KeyRing

logger = logging.getLogger(__name__)

MEDIA_TYPES = {"dxf": "image/vnd.dxf", "dwg": "image/vnd.dwg", "pdf": "application/pdf", "png": "image/png"}


def _warm() -> None:
    """Each rendering process loads the fonts once, before its first document."""
    from docgen import fonts

    fonts.setup_ezdxf()
    fonts.register_reportlab()


def render_in_child(
    kind_key: str, data: dict[str, Any], stamp: Stamp, odafc: Path | None
) -> Rendered | list[dict[str, str]]:
    """The rendered document, or the problems of its data (exceptions with custom constructors do not
    cross the process boundary, so problems come back as data)."""
    from docgen.errors import DataInvalid
    from docgen.kinds import kind_of, render

    kind = kind_of(kind_key)
    try:
        rendered = render(kind, data, stamp)
    except DataInvalid as exc:
        return [p.as_json() for p in exc.problems]
    if odafc is not None and "dxf" in rendered.files:
        from docgen.dwg import to_dwg

        rendered.files["dwg"] = to_dwg(rendered.files["dxf"], str(odafc))
    return rendered


class Renderers:
    """The worker's rendering processes: made on first use, shared by all its jobs (arq gives each job a
    copy of the worker's `ctx`, so shared things are made at startup and kept in one object), and made
    anew when one of them died."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    async def render(
        self, kind_key: str, data: dict[str, Any], stamp: Stamp, odafc: Path | None
    ) -> Rendered | list[dict[str, str]]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_warm
            )
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, render_in_child, kind_key, data, stamp, odafc
            )
        except BrokenProcessPool:
            self.shutdown()  # a rendering process died (killed, out of memory): a new pool for the retry
            raise

    def shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class _Reporter:
    def __init__(self, ctx: dict[str, Any], deliverable_id: str) -> None:
        self.ctx = ctx
        self.address = deliverable_address(deliverable_id)
        self.tick = 0

    async def tell(self, message: Any) -> None:
        await send(self.ctx["redis"], self.ctx["settings"].redis_prefix, self.address, message)

    def next_tick(self) -> int:
        self.tick += 1
        return self.tick

    async def step(self, step: str, percent: float) -> None:
        await self.tell(ReportProgress(tick=self.next_tick(), step=step, percent=percent))


async def generate_deliverable(ctx: dict[str, Any], deliverable_id: str) -> str:
    settings = ctx["settings"]
    async with ctx["pool"].acquire() as conn:
        row = await conn.fetchrow(sql.LOAD, deliverable_id)
        if row is None or row["status"] not in ("queued", "rendering"):
            return "nothing to do"
        await conn.execute(sql.START, deliverable_id)
    reporter = _Reporter(ctx, deliverable_id)
    keys: KeyRing = ctx["keys"]
    data = open_data(keys, deliverable_id, row["data_sealed"])
    day = deliverable_id[2:10]
    stamp = Stamp(deliverable_id, row["revision"], row["content_sm3"], settings.verify_base,
                  f"{day[:4]}-{day[4:6]}-{day[6:]}")  # fmt: skip
    await reporter.step("render", 10.0)
    renderers: Renderers = ctx["renderers"]
    result = await renderers.render(row["kind"], data, stamp, settings.odafc_path)
    if isinstance(result, list):
        async with ctx["pool"].acquire() as conn:
            await conn.execute(sql.FAILED, deliverable_id, result)
        await reporter.tell(ReportFailed(message="数据不完整或不正确，未生成文件", problems=result))
        logger.info(
            "deliverable.invalid_data", extra={"deliverable_id": deliverable_id, "problems": len(result)}
        )
        return "failed"
    await reporter.step("store", 90.0)
    files = await _store(ctx, result)
    async with ctx["pool"].acquire() as conn:
        await conn.execute(sql.RENDERED, deliverable_id, files, result.pages, result.sheet_numbers)
    await reporter.tell(ReportRendered(tick=reporter.next_tick(), pages=result.pages,
                                       sheet_numbers=result.sheet_numbers))  # fmt: skip
    logger.info("deliverable.rendered", extra={"deliverable_id": deliverable_id, "pages": result.pages})
    return "draft"


async def _store(ctx: dict[str, Any], rendered: Rendered) -> dict[str, Any]:
    storage = LocalStorage(ctx["settings"].files_path)
    files: dict[str, Any] = {}
    previews: list[str] = []
    async with ctx["pool"].acquire() as conn:
        for ext, content in rendered.files.items():
            blob = await storage.put(content)
            await conn.execute(sql.INSERT_BLOB, blob.sm3, blob.size, MEDIA_TYPES[ext])
            files[ext] = {"sm3": blob.sm3, "size": blob.size}
        for png in rendered.previews:
            blob = await storage.put(png)
            await conn.execute(sql.INSERT_BLOB, blob.sm3, blob.size, MEDIA_TYPES["png"])
            previews.append(blob.sm3)
    files["previews"] = previews
    return files


async def requeue_stale_deliverables(ctx: dict[str, Any]) -> int:
    """Deliverables queued for minutes (their job was never enqueued: Redis was down) or rendering far
    longer than any document takes (the worker died): enqueued again."""
    async with ctx["pool"].acquire() as conn:
        ids = [r["id"] for r in await conn.fetch(sql.STALE)]
    for deliverable_id in ids:
        await ctx["arq"].enqueue_job(JOB_NAME, deliverable_id, _job_id=job_id(deliverable_id))
    return len(ids)
