"""A throwaway tongban stack for load tests: a fresh database on the configured (or embedded)
PostgreSQL, its own Redis key prefix and var directory, and the real server and arq worker as
subprocesses listening on 127.0.0.1 only. Everything is removed again when the block ends.

Must not: touch the database, Redis keys or var directory of `make run` or of the test suite,
listen on anything but 127.0.0.1, or outlive its `with` block (processes are stopped and the
database dropped even on Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from server import db
from server.config import Settings
from server.connections import resolve_urls
from server.keystore import KeyRing
from tests.support.database import drop_redis_prefix, prepare_database
from tests.support.processes import Child, ServerChild, start_server, start_worker

LOGIN = "pujiang"  # a demo applicant (seeded by `seed_accounts`): may create and read its own projects
ADMIN_LOGIN = "admin"  # the demo system administrator: may create accounts


def new_password() -> str:
    """A password for this run's demo accounts that meets the default (等保 level 2) policy: 8+
    characters from all 4 classes, and random, so it contains no login or person's name."""
    return f"Lt-{secrets.token_hex(6)}-Z9"


@dataclass
class Stack:
    server: ServerChild
    env: dict[str, str]
    var_dir: Path
    database_url: str
    redis_url: str
    redis_prefix: str
    password: str  # of every seeded demo account (server/seed.py USERS)
    workers: list[Child] = field(default_factory=list)
    nodes: list[ServerChild] = field(default_factory=list)  # more server processes (`start_node`)

    @property
    def queue_key(self) -> str:
        return f"{self.redis_prefix}arq:queue"

    def start_worker(self) -> Child:
        """Start one more arq worker; returns once it has connected and logged `worker.started`."""
        log = self.var_dir / "logs" / f"worker-{len(self.workers) + 1}.log"
        child = start_worker(self.env, log)
        self.workers.append(child)
        return child

    def stop_workers(self) -> None:
        while self.workers:
            self.workers.pop().stop()

    def start_node(self, node_id: str, extra_env: dict[str, str] | None = None) -> ServerChild:
        """Start one more server process (a cluster node) on its own port, sharing this stack's
        database, Redis prefix and var directory, named `node_id` (TONGBAN_NODE_ID)."""
        env = {**self.env, **(extra_env or {}), "TONGBAN_NODE_ID": node_id}
        child = start_server(env, self.var_dir / "logs" / f"server-{node_id}.log")
        self.nodes.append(child)
        print(f"stack: node {node_id} {child.url} (pid {child.proc.pid})", flush=True)
        return child

    def stop_nodes(self) -> None:
        while self.nodes:
            self.nodes.pop().stop()

    def log_problems(self, limit: int = 5) -> tuple[int, list[str]]:
        """How many WARNING/ERROR lines the server and workers logged, and the first few of them."""
        count, examples = 0, list[str]()
        for log in sorted((self.var_dir / "logs").glob("*.log")):
            for line in log.read_text(errors="replace").splitlines():
                if '"level": "WARNING"' in line or '"level": "ERROR"' in line or "Traceback" in line:
                    count += 1
                    if len(examples) < limit:
                        examples.append(f"{log.name}: {line[:300]}")
        return count, examples

    def log_tail(self, lines: int = 20) -> str:
        parts = []
        for log in sorted((self.var_dir / "logs").glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(parts)


def _env(database_url: str, redis_url: str, prefix: str, var_dir: Path, password: str) -> dict[str, str]:
    """The environment that points a child process at this stack (as `tests/conftest.py` does)."""
    return {
        "TONGBAN_DATABASE_URL": database_url,
        "TONGBAN_REDIS_URL": redis_url,
        "TONGBAN_REDIS_PREFIX": prefix,
        "TONGBAN_VAR_DIR": str(var_dir),
        "TONGBAN_LOG_JSON": "true",
        "TONGBAN_DEMO_PASSWORD": password,
    }


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds through the `finally` below, so a stopped run still cleans up after itself.
    sys.exit(128 + signum)


@contextlib.contextmanager
def running_stack(
    tag: str,
    *,
    with_worker: bool = True,
    node_id: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Server (and, unless told otherwise, one worker) on a fresh database named after `tag`.
    `node_id`: the server's TONGBAN_NODE_ID (more nodes: `Stack.start_node`); `extra_env`: more
    TONGBAN_* settings for every process of the stack (e.g. TONGBAN_WS_HEARTBEAT_S)."""
    run_id = uuid.uuid4().hex[:10]
    name = f"tongban_{tag}_{run_id}"
    prefix = f"tb{tag}:{run_id}:"
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    urls = asyncio.run(resolve_urls(Settings()))
    var_dir = Path(tempfile.mkdtemp(prefix=f"tongban-{tag}-"))
    password = new_password()
    server: ServerChild | None = None
    stack: Stack | None = None
    print(f"stack: database {name}, redis prefix {prefix}, var {var_dir}", flush=True)
    try:
        keys = KeyRing(var_dir / "keys")
        database_url = asyncio.run(prepare_database(urls.database, name, keys, password))
        env = {**_env(database_url, urls.redis, prefix, var_dir, password), **(extra_env or {})}
        first_env = env if node_id is None else {**env, "TONGBAN_NODE_ID": node_id}
        server = start_server(first_env, var_dir / "logs" / "server.log")
        stack = Stack(server, env, var_dir, database_url, urls.redis, prefix, password)
        if with_worker:
            stack.start_worker()
        print(f"stack: server {server.url} (pid {server.proc.pid})", flush=True)
        yield stack
    except Exception:  # a failure, not an interruption: show what the processes said
        if stack is not None:
            print(stack.log_tail(), file=sys.stderr, flush=True)
        raise
    finally:
        if stack is not None:
            stack.stop_workers()
            stack.stop_nodes()
        if server is not None:
            server.stop()
        asyncio.run(db.drop_database(urls.database, name))
        asyncio.run(drop_redis_prefix(urls.redis, prefix))
        shutil.rmtree(var_dir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
        print(f"stack: stopped; dropped database {name} and redis prefix {prefix}", flush=True)
