"""arq jobs of BIM checking: `run_bim_check` checks one submitted model with the rule-set version
pinned to its bid session (`bim.pipeline`: a child process per check, stage time limits, a memory
cap), reports progress to the check actor through the actor inbox at least every few seconds, and
stores the report; `requeue_stale_checks` (cron) enqueues checks whose job was lost.

Must not: run IFC code in the worker process, or take anything but ids as arguments.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from typing import Any
from uuid import UUID

from actors.bid.actor import bid_address
from actors.bid.messages import RecordCheck
from actors.bid.state import CheckSummary
from actors.check.actor import check_address
from actors.check.messages import ReportErrored, ReportFinished, ReportProgress, ReportStage, ReportStarted
from actors.check.state import StageSummary
from actors.inbox import send
from bim.pipeline import run_check
from bim.report import Report
from server.files.storage import LocalStorage

logger = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0  # at most one progress report a second per check (stage changes go at once)
DASHBOARD_EVERY_S = 4.0  # the bid session's dashboard hears of a running check at least this often
LOAD = """
    SELECT c.id, c.bid_id, c.blob_sm3, c.file_name, c.status, o.name AS org_name, v.id AS version_id, v.version,
           v.rule_set_id, v.content, v.content_sm3
    FROM bim_check c JOIN bim_rule_set_version v ON v.id = c.rule_set_version_id
    JOIN organization o ON o.id = c.org_id
    WHERE c.id = $1"""
START = """
    UPDATE bim_check SET status = 'running', started_at = now()
    WHERE id = $1 AND status IN ('queued', 'running', 'error')"""
FINISH = """
    UPDATE bim_check SET status = $2, report = $3, report_sm3 = $4, counts = $5, finished_at = now()
    WHERE id = $1 AND status = 'running'"""
ERROR = "UPDATE bim_check SET status = 'error' WHERE id = $1 AND status = 'running'"
STALE = """
    SELECT id FROM bim_check
    WHERE (status = 'queued' AND created_at < now() - interval '2 minutes')
       OR (status = 'running' AND started_at < now() - interval '30 minutes')
    ORDER BY created_at LIMIT 100"""
JOB_NAME = "run_bim_check"


def job_id(check_id: Any) -> str:
    return f"bim-check:{check_id}"


class _Reporter:
    """Sends the pipeline's progress to the check actor (throttled) and to the bid session's
    dashboard (less often), each report with its tick so that late redeliveries are dropped."""

    def __init__(self, ctx: dict[str, Any], row: Any, attempt: int) -> None:
        self.ctx = ctx
        self.address = check_address(row["id"])
        self.bid = bid_address(row["bid_id"])
        self.summary = CheckSummary(check_id=row["id"], org_name=row["org_name"], file_name=row["file_name"],
                                    status="running", attempt=attempt)  # fmt: skip
        self.tick = 0
        self.last_stage: str | None = None
        self.last_sent = 0.0
        self.last_dashboard = 0.0

    async def tell(self, message: Any) -> None:
        await send(self.ctx["redis"], self.ctx["settings"].redis_prefix, self.address, message)

    async def dashboard(self, **changes: Any) -> None:
        self.summary = self.summary.model_copy(update={**changes, "tick": self.next_tick()})
        self.last_dashboard = time.monotonic()
        await send(
            self.ctx["redis"], self.ctx["settings"].redis_prefix, self.bid, RecordCheck(summary=self.summary)
        )

    def next_tick(self) -> int:
        self.tick += 1
        return self.tick

    async def progress(self, progress: dict[str, Any]) -> None:
        stage = progress.get("stage")
        now = time.monotonic()
        if stage is None or (stage == self.last_stage and now - self.last_sent < PROGRESS_EVERY_S):
            return
        changed, self.last_stage, self.last_sent = stage != self.last_stage, stage, now
        percent = float(progress["percent"])
        await self.tell(ReportProgress(tick=self.next_tick(), stage=stage, percent=percent,
                                       counts=progress.get("counts") or {}))  # fmt: skip
        if changed or now - self.last_dashboard >= DASHBOARD_EVERY_S:
            await self.dashboard(stage=stage, percent=percent)


async def run_bim_check(ctx: dict[str, Any], check_id: str) -> str:
    """Check one model, waiting for one of the worker's `bim_checks_at_once` places first."""
    gate: asyncio.Semaphore = ctx["bim_gate"]  # made at worker startup: each job's ctx is a copy
    async with gate:
        return await _run(ctx, check_id)


async def _run(ctx: dict[str, Any], check_id: str) -> str:
    settings = ctx["settings"]
    check = UUID(check_id)
    async with ctx["pool"].acquire() as conn:
        row = await conn.fetchrow(LOAD, check)
        if row is None or row["status"] in ("passed", "failed"):
            return "nothing to do"
        await conn.execute(START, check)
    attempt = int(ctx.get("job_try", 1))
    reporter = _Reporter(ctx, row, attempt)
    await reporter.tell(ReportStarted(check_id=check, bid_id=row["bid_id"], attempt=attempt))
    await reporter.dashboard(status="running")
    work_dir = settings.var_path / "bim-work" / check_id
    rule_set = {"id": str(row["rule_set_id"]), "version": row["version"], "content_sm3": row["content_sm3"]}
    try:
        report = await run_check(
            LocalStorage(settings.files_path).blob_path(row["blob_sm3"]), row["file_name"], row["blob_sm3"],
            rule_set, row["content"], work_dir, reporter.progress, memory_bytes=settings.bim_check_memory_bytes,
        )  # fmt: skip
    except Exception:
        logger.exception("bim.check_failed", extra={"check_id": check_id})
        async with ctx["pool"].acquire() as conn:
            await conn.execute(ERROR, check)
        await reporter.tell(ReportErrored(message="检查未能运行（系统原因，将自动重试）"))
        await reporter.dashboard(status="error")
        raise
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    await _store(ctx, check, report)
    for stage in report.stages:
        summary = StageSummary(stage=stage.stage, status=stage.status,
                               errors=sum(r.counts.get("ERROR", 0) for r in stage.results),
                               warnings=sum(r.counts.get("WARNING", 0) for r in stage.results))  # fmt: skip
        await reporter.tell(ReportStage(tick=reporter.next_tick(), summary=summary))
    await reporter.tell(ReportFinished(tick=reporter.next_tick(), verdict=report.verdict, totals=report.counts,
                                       report_sm3=report.digest()))  # fmt: skip
    await reporter.dashboard(status=report.verdict, stage=None, percent=100.0, errors=report.counts["errors"],
                             warnings=report.counts["warnings"])  # fmt: skip
    logger.info("bim.check_finished", extra={"check_id": check_id, "verdict": report.verdict})
    return report.verdict


async def _store(ctx: dict[str, Any], check: UUID, report: Report) -> None:
    async with ctx["pool"].acquire() as conn:
        await conn.execute(FINISH, check, report.verdict, report.canonical(), report.digest(), report.counts)


async def requeue_stale_checks(ctx: dict[str, Any]) -> int:
    """Checks queued for minutes (their job was never enqueued: Redis was down at submission) or
    running for far longer than any stage may take (the worker died): enqueued again."""
    async with ctx["pool"].acquire() as conn:
        ids = [r["id"] for r in await conn.fetch(STALE)]
    for check in ids:
        await ctx["arq"].enqueue_job(JOB_NAME, str(check), _job_id=job_id(check))
    return len(ids)
