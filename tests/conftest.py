"""Session fixtures: real PostgreSQL and Redis (embedded unless TONGBAN_DATABASE_URL / _REDIS_URL are
set), one fresh database per test session (created, migrated, dropped), one Redis key prefix per
session, and the real server and arq worker as subprocesses."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from server import db
from server.config import Settings
from server.connections import Urls
from server.keystore import KeyRing
from server.services import ensure_services, stop_services
from tests.support.clients import DEMO_PASSWORD, login
from tests.support.database import drop_redis_prefix, prepare_database
from tests.support.processes import Child, ServerChild, start_server, start_worker

SESSION = uuid.uuid4().hex[:10]
CONFORMANCE_DIR = Path(__file__).parent / "conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--conformance", action="store_true", help="run the conformance suite over the corpus only"
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    inside = collection_path == CONFORMANCE_DIR or CONFORMANCE_DIR in collection_path.parents
    if config.getoption("--conformance"):
        return None if inside or collection_path in CONFORMANCE_DIR.parents else True
    return True if inside else None


@pytest.fixture(scope="session")
def service_urls() -> Iterator[Urls]:
    """Where the test servers are: the configured URLs or the embedded servers of this checkout.
    Embedded servers this session had to start are stopped at its end; running ones are left alone."""
    configured = Settings()
    found = ensure_services(configured.database_url, configured.redis_url, configured.var_path)
    yield Urls(found.database_url, found.redis_url)
    stop_services(configured.var_path, found.started)


@pytest.fixture(scope="session")
def database_url(service_urls: Urls, var_dir: Path) -> Iterator[str]:
    name = f"tongban_test_{SESSION}"
    url = asyncio.run(prepare_database(service_urls.database, name, KeyRing(var_dir / "keys"), DEMO_PASSWORD))
    yield url
    asyncio.run(db.drop_database(service_urls.database, name))


@pytest.fixture(scope="session")
def redis_prefix(service_urls: Urls) -> Iterator[str]:
    prefix = f"tbtest:{SESSION}:"
    yield prefix
    asyncio.run(drop_redis_prefix(service_urls.redis, prefix))


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(database_url: str, service_urls: Urls, redis_prefix: str, var_dir: Path) -> Settings:
    return Settings(
        database_url=database_url, redis_url=service_urls.redis, redis_prefix=redis_prefix, var_dir=var_dir
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process exactly these settings."""
    return {
        "TONGBAN_DATABASE_URL": str(settings.database_url),
        "TONGBAN_REDIS_URL": str(settings.redis_url),
        "TONGBAN_REDIS_PREFIX": settings.redis_prefix,
        "TONGBAN_VAR_DIR": str(settings.var_dir),
        "TONGBAN_LOG_JSON": "true",
        "TONGBAN_WS_HEARTBEAT_S": str(settings.ws_heartbeat_s),
        "TONGBAN_DEMO_PASSWORD": DEMO_PASSWORD,
    }


@pytest.fixture(scope="session")
def env(settings: Settings) -> dict[str, str]:
    return settings_env(settings)


@pytest.fixture(scope="session")
def server(env: dict[str, str], var_dir: Path) -> Iterator[ServerChild]:
    child = start_server(env, var_dir / "logs" / "server.log")
    yield child
    child.stop()


@pytest.fixture(scope="session")
def worker(env: dict[str, str], var_dir: Path) -> Iterator[Child]:
    child = start_worker(env, var_dir / "logs" / "worker.log")
    yield child
    child.stop()


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[Any]:
    p = await db.create_pool(database_url, min_size=1, max_size=5)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def redis(service_urls: Urls) -> AsyncIterator[Redis]:
    client = Redis.from_url(service_urls.redis)
    yield client
    await client.aclose()


@pytest.fixture
async def as_user(server: ServerChild) -> AsyncIterator[Any]:
    """`await as_user("pujiang")`: an HTTP client logged in as that demo account."""
    clients: list[httpx.AsyncClient] = []

    async def make(login_name: str) -> httpx.AsyncClient:
        client = await login(server.url, login_name)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def anonymous(server: ServerChild) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


def unique_code() -> str:
    """A fresh 项目代码 with the GB/T 40058-2021 structure (random region and serial: 10^10 of them)."""
    n = uuid.uuid4().int
    return f"2026-31{n % 10**4:04d}-47-01-{n // 10**4 % 10**6:06d}"
