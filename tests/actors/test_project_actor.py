"""The project actor keeps its promise to open the archive even when Redis refuses the job: the
project is committed, and the request is retried (through a durable timer) until the job is queued."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from arq.connections import create_pool

from actors.project.actor import ProjectActor, project_address
from actors.project.messages import CreateProject
from actors.runtime import ActorSystem, RuntimeConfig
from server.app import ActorDeps, arq_settings
from server.config import Settings
from server.keystore import KeyRing
from server.seed import USERS, stable_id
from server.services import EmbeddedRedis

QUEUE_TIMEOUT_S = 15


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    folder = Path(tempfile.mkdtemp(prefix="tongban-redis-"))
    redis = EmbeddedRedis(folder / "var")
    redis.start()
    yield redis
    redis.stop()
    shutil.rmtree(folder, ignore_errors=True)


async def test_a_project_created_while_redis_refuses_jobs_gets_its_archive_job_once_redis_is_back(
    pool, redis, settings: Settings, own_redis: EmbeddedRedis
):
    own = settings.model_copy(update={"redis_url": own_redis.url})
    arq = await create_pool(arq_settings(own_redis.url, own), default_queue_name=own.arq_queue)
    # Leases live in the suite's Redis; only the job queue is in the Redis that goes down.
    deps = ActorDeps(pool=pool, arq=arq, settings=own, keys=KeyRing(own.keys_path))
    system = ActorSystem(deps, redis, settings.redis_prefix, RuntimeConfig(timer_poll_s=0.1))
    system.register(ProjectActor)
    await system.start()
    owner = next(u for u in USERS if u.login == "pujiang")
    project_id = uuid.uuid4()
    try:
        await asyncio.to_thread(own_redis.stop)
        state = await system.ref(project_address(project_id)).ask(
            CreateProject(
                code=f"R-{project_id.hex[:10]}",
                name="缓存故障时登记",
                owner_org_id=stable_id("org", owner.org_code),
                created_by=stable_id("user", owner.login),
            ),
            timeout=10,
        )
        assert state.status == "registered"  # committed although the job could not be queued
        await asyncio.to_thread(own_redis.start)
        async with asyncio.timeout(QUEUE_TIMEOUT_S):
            while not (jobs := await arq.queued_jobs(queue_name=own.arq_queue)):  # noqa: ASYNC110 - retries run on a timer
                await asyncio.sleep(0.05)
        assert [(j.function, j.args) for j in jobs] == [("open_project_archive", (str(project_id),))]
    finally:
        await system.stop()
        await arq.aclose()
