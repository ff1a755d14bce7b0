"""The archive job and the actor inbox take bad input without dying: a job for a missing project
records nothing, a malformed id fails that job only, and a malformed inbox entry is dropped while
the next real report still reaches its actor."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis, create_pool

from actors.inbox import stream_key
from server.app import arq_settings
from server.config import Settings
from tests.conftest import unique_code
from tests.support.clients import frame_of_type, open_ws

JOB_TIMEOUT_S = 20


@pytest.fixture
async def arq(settings: Settings) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(
        arq_settings(str(settings.redis_url), settings), default_queue_name=settings.arq_queue
    )
    yield pool
    await pool.aclose()


async def test_an_archive_job_for_a_project_that_does_not_exist_does_nothing_and_the_worker_lives_on(
    worker, arq, pool
):
    missing = uuid.uuid4()
    job = await arq.enqueue_job("open_project_archive", str(missing))
    assert job is not None
    assert await job.result(timeout=JOB_TIMEOUT_S) is None
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM project_archive WHERE project_id = $1", missing) == 0
    assert worker.proc.poll() is None


async def test_an_archive_job_with_a_malformed_id_fails_alone_and_the_next_job_still_runs(
    server, worker, arq, as_user
):
    bad = await arq.enqueue_job("open_project_archive", "not-a-uuid")
    assert bad is not None
    with pytest.raises(ValueError, match="badly formed hexadecimal UUID string"):
        await bad.result(timeout=JOB_TIMEOUT_S)
    assert worker.proc.poll() is None
    applicant = await as_user("pujiang")
    project = (
        await applicant.post("/api/v1/projects", json={"code": unique_code(), "name": "作业隔离"})
    ).json()
    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since=0", applicant)
    try:
        await frame_of_type(ws, "project.archive_opened", timeout=JOB_TIMEOUT_S)
    finally:
        await ws.close()


async def test_a_malformed_inbox_entry_is_dropped_and_later_reports_still_reach_their_actors(
    server, worker, redis, settings, as_user
):
    key = stream_key(settings.redis_prefix)
    await redis.xadd(key, {"to": "project:not-a-uuid", "message": "{"})
    await redis.xadd(key, {"to": f"project:{uuid.uuid4()}", "message": '{"type": "no.such.message"}'})
    await redis.xadd(key, {"nothing": "useful"})
    applicant = await as_user("pujiang")
    project = (
        await applicant.post("/api/v1/projects", json={"code": unique_code(), "name": "收件箱"})
    ).json()
    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since=0", applicant)
    try:
        await frame_of_type(ws, "project.archive_opened", timeout=JOB_TIMEOUT_S)
    finally:
        await ws.close()
    assert server.proc.poll() is None
    # The report is acknowledged just after the actor published its event: allow it that moment.
    async with asyncio.timeout(5):
        while (pending := await redis.xpending(key, "nodes"))["pending"]:  # noqa: ASYNC110 - state in Redis
            await asyncio.sleep(0.05)
    assert pending["pending"] == 0  # the bad entries were acknowledged, not left to be retried forever
