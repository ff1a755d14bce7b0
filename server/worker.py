"""The arq worker: its settings, the functions it runs, and what each job gets in `ctx`.

Jobs take ids, never objects; each runs under its own timeout. Must not: hold actor state.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from arq.connections import RedisSettings, create_pool
from arq.cron import CronJob, cron
from arq.worker import Function, func

from server import db
from server.app import arq_settings, redis_client
from server.bim.jobs import requeue_stale_checks, run_bim_check
from server.config import Settings
from server.deliverables.jobs import Renderers, generate_deliverable, requeue_stale_deliverables
from server.files.jobs import sweep_expired_uploads
from server.keystore import KeyRing
from server.projects.jobs import open_project_archive

logger = logging.getLogger(__name__)

# arq's default 0.5 s poll added ~250 ms (p50) between a job's enqueue and its start (loadtest/RESULTS.md).
WORKER_POLL_S = 0.05

FUNCTIONS: list[Function] = [
    func(open_project_archive, timeout=60, max_tries=5),
    func(sweep_expired_uploads, timeout=600, max_tries=3),
    # The stages' own limits bound a check (~15 minutes); the rest is waiting for a place (bim_checks_at_once).
    func(run_bim_check, timeout=4 * 3600, max_tries=3),
    func(requeue_stale_checks, timeout=60, max_tries=1),
    func(generate_deliverable, timeout=600, max_tries=3),
    func(requeue_stale_deliverables, timeout=60, max_tries=1),
]
CRON_JOBS: list[CronJob] = [
    cron(requeue_stale_checks, minute=set(range(60)), second=30, timeout=60, unique=True),
    cron(sweep_expired_uploads, minute=set(range(0, 60, 5)), timeout=600, unique=True),
    cron(requeue_stale_deliverables, minute=set(range(60)), second=45, timeout=60, unique=True),
]


def worker_settings(settings: Settings, database_url: str, redis_url: str) -> type:
    """The settings class `arq.run_worker` takes, bound to these URLs."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["pool"] = await db.create_pool(
            database_url,
            min_size=1,
            max_size=5,
            timeout_s=settings.db_timeout_s,
            statement_timeout_s=settings.db_statement_timeout_s,
        )
        ctx["redis"] = redis_client(redis_url, settings)
        ctx["arq"] = await create_pool(
            arq_settings(redis_url, settings), default_queue_name=settings.arq_queue
        )
        # arq hands each job a copy of this dict: what jobs share lives in objects made here.
        ctx["keys"] = KeyRing(settings.keys_path)
        ctx["renderers"] = Renderers(settings.docgen_processes)
        ctx["bim_gate"] = asyncio.Semaphore(settings.bim_checks_at_once)
        logger.info("worker.started", extra={"queue": settings.arq_queue})

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "renderers" in ctx:
            ctx["renderers"].shutdown()
        if "pool" in ctx:
            await ctx["pool"].close()
        if "redis" in ctx:
            await ctx["redis"].aclose()
        if "arq" in ctx:
            await ctx["arq"].aclose()
        logger.info("worker.stopped")

    class WorkerSettings:
        functions: ClassVar[list[Function]] = FUNCTIONS
        cron_jobs: ClassVar[list[CronJob]] = CRON_JOBS
        queue_name = settings.arq_queue
        redis_settings: RedisSettings = arq_settings(redis_url, settings)
        on_startup = staticmethod(startup)
        on_shutdown = staticmethod(shutdown)
        max_jobs = settings.worker_concurrency
        poll_delay = WORKER_POLL_S
        health_check_key = f"{settings.arq_queue}:health-check"
        handle_signals = True

    return WorkerSettings
