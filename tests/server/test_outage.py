"""PostgreSQL or Redis down: at start the server names the missing one and exits non-zero; while
running, `/readyz` and requests answer 503 and everything recovers by itself when it is back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.seed import DEMO_TASKS, PROJECTS
from server.services import EmbeddedPostgres, EmbeddedRedis
from tests.support.clients import DEMO_PASSWORD
from tests.support.processes import ServerChild, free_port, start_server

RECOVERY_TIMEOUT_S = 20.0


def _serve_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(free_port())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_server_refuses_to_start_without_postgresql_and_says_so(env):
    result = _serve_once(
        {**env, "TONGBAN_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/tongban"}
    )
    assert result.returncode != 0
    assert "PostgreSQL is not reachable" in result.stderr


def test_the_server_refuses_to_start_without_redis_and_says_so(env):
    result = _serve_once({**env, "TONGBAN_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert result.returncode != 0
    assert "Redis is not reachable" in result.stderr


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    redis = EmbeddedRedis(tmp_path / "var")
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def server_on_own_redis(env, own_redis: EmbeddedRedis, tmp_path: Path) -> Iterator[ServerChild]:
    child = start_server({**env, "TONGBAN_REDIS_URL": own_redis.url}, tmp_path / "server.log")
    yield child
    child.stop()


def _wait_ready(client: httpx.Client) -> httpx.Response:
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_redis_going_away_makes_readyz_and_requests_503_and_its_return_heals_both(
    server_on_own_redis: ServerChild, own_redis: EmbeddedRedis
):
    with httpx.Client(base_url=server_on_own_redis.url, timeout=10) as client:
        assert (
            client.post("/api/v1/login", json={"login": "pujiang", "password": DEMO_PASSWORD}).status_code
            == 200
        )
        assert client.get("/readyz").status_code == 200

        own_redis.stop()
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["error"]["code"] == "not_ready"
        assert not_ready.json()["error"]["checks"] == {"database": "ok", "redis": "unavailable"}
        during = client.get("/api/v1/projects")
        assert during.status_code == 503
        assert during.json()["error"]["code"] == "redis_unavailable"
        assert client.get("/healthz").status_code == 200  # the process itself is fine

        own_redis.start()
        assert _wait_ready(client).status_code == 200
        after = client.get("/api/v1/projects")
        assert after.status_code == 200  # the session survived in Redis's append-only file
    assert server_on_own_redis.proc.poll() is None


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def pg_var() -> Iterator[Path]:
    # Not under pytest's tmp_path: pytest resets its root to mode 0700 at each session start, which
    # would lock PostgreSQL's own user out of its data directory.
    folder = Path(tempfile.mkdtemp(prefix="tongban-pg-"))
    folder.chmod(0o755)
    yield folder / "var"
    EmbeddedPostgres(folder / "var").stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def embedded_pg_env(env, pg_var: Path) -> dict[str, str]:
    """A server environment whose PostgreSQL is an embedded one of its own, started on demand."""
    own = {
        **env,
        "TONGBAN_VAR_DIR": str(pg_var),
        "TONGBAN_REDIS_PREFIX": env["TONGBAN_REDIS_PREFIX"] + "pg:",
    }
    del own["TONGBAN_DATABASE_URL"]
    return own


def test_an_embedded_postgresql_is_started_on_demand_and_readyz_waits_for_migrations_and_survives_a_restart(
    embedded_pg_env: dict[str, str], pg_var: Path, tmp_path: Path
):
    pg = EmbeddedPostgres(pg_var)
    server = start_server(embedded_pg_env, tmp_path / "server.log")
    try:
        assert pg.status().running
        with httpx.Client(base_url=server.url, timeout=10) as client:
            pending = client.get("/readyz")
            assert pending.status_code == 503
            assert pending.json()["error"]["checks"]["database"] == "pending_migrations"

            assert _cli(embedded_pg_env, "migrate").returncode == 0
            seeded = _cli(embedded_pg_env, "seed")
            assert seeded.returncode == 0, seeded.stderr
            assert client.get("/readyz").status_code == 200
            logged_in = client.post("/api/v1/login", json={"login": "pujiang", "password": DEMO_PASSWORD})
            client.headers["x-csrf-token"] = logged_in.json()["csrf_token"]
            before = client.get("/api/v1/projects").json()["items"]
            assert {p["code"] for p in before} >= {"2026-310115-47-01-000123"}
            # The demo data includes a parallel approval on the first project and a bid session.
            first = next(p for p in before if p["code"] == PROJECTS[0][0])
            board = client.get(f"/api/v1/projects/{first['id']}").json()["tasks"]
            assert sorted(t["item"] for t in board) == sorted(item for _, item, _ in DEMO_TASKS)
            assert {t["deadline_state"] for t in board} <= {"on_time", "due_soon", "overdue"}
            again = _cli(embedded_pg_env, "seed")
            assert again.returncode == 0
            assert "0 projects added" in again.stdout
            with httpx.Client(base_url=server.url, timeout=10) as organiser:
                organiser.post("/api/v1/login", json={"login": "bidadmin", "password": DEMO_PASSWORD})
                bids = organiser.get("/api/v1/bids").json()["items"]
                assert [b["name"] for b in bids] == ["浦江置业前滩商业综合体 BIM 辅助设计方案评标会"]  # once

            pg.stop()
            down = client.get("/readyz")
            assert (down.status_code, down.json()["error"]["checks"]["database"]) == (503, "unavailable")
            failing = client.get("/api/v1/projects")
            assert (failing.status_code, failing.json()["error"]["code"]) == (503, "database_unavailable")
            refused = client.post("/api/v1/projects", json={"code": "2026-310115-47-01-990101", "name": "停库时登记"})
            assert refused.status_code == 503

            pg.start()
            assert _wait_ready(client).status_code == 200
            assert client.get("/api/v1/projects").json()["items"] == before  # data survived the restart
            retried = client.post("/api/v1/projects", json={"code": "2026-310115-47-01-990101", "name": "恢复后登记"})
            assert retried.status_code == 201  # the failed attempt wrote nothing, not even the code
        assert server.proc.poll() is None
    finally:
        server.stop()
