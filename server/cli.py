"""The `tongban` command: serve, worker, migrate, seed, services, and `run` (all of them at once,
for `make run`). Messages to the operator are English; exit status is non-zero on any failure.
Must not: hold application logic (each subcommand calls the module that owns it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from types import SimpleNamespace
from typing import Any, TypeVar

from server.config import Settings, get_settings
from server.connections import Urls, redacted, resolve_urls
from server.logging import setup_logging

T = TypeVar("T")


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


async def _check(urls: Urls, settings: Settings) -> str | None:
    """None when PostgreSQL and Redis answer; otherwise which one does not, and why."""
    from server import db
    from server.app import redis_client

    try:
        conn = await db.connect(urls.database, timeout_s=settings.db_timeout_s)
        await conn.close()
    except Exception as exc:
        return f"PostgreSQL is not reachable at {redacted(urls.database)}: {type(exc).__name__}: {exc}"
    redis = redis_client(urls.redis, settings)
    try:
        async with asyncio.timeout(settings.redis_timeout_s * 2):
            await redis.ping()
    except Exception as exc:
        return f"Redis is not reachable at {redacted(urls.redis)}: {type(exc).__name__}: {exc}"
    finally:
        await redis.aclose()
    return None


def _resolved(settings: Settings) -> Urls | int:
    try:
        urls = asyncio.run(resolve_urls(settings))
    except Exception as exc:
        return _fail(f"could not start or reach the embedded services: {type(exc).__name__}: {exc}")
    problem = asyncio.run(_check(urls, settings))
    if problem:
        return _fail(problem)
    return urls


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    urls = _resolved(settings)
    if isinstance(urls, int):
        return urls
    settings = settings.model_copy(update={"database_url": urls.database, "redis_url": urls.redis})
    config = uvicorn.Config(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        lifespan="on",
        ws="wsproto",  # the leanest per connection here (loadtest/RESULTS.md)
        ws_per_message_deflate=False,  # zlib state costs ~100 KiB per socket; our frames are small
        ws_ping_interval=settings.ws_ping_interval_s,  # protocol pings: timers in uvicorn, no task
        ws_ping_timeout=settings.ws_ping_timeout_s,
        ws_max_size=settings.ws_max_frame_bytes,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 3


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from arq.worker import run_worker

    from server.worker import worker_settings

    urls = _resolved(settings)
    if isinstance(urls, int):
        return urls
    run_worker(worker_settings(settings, urls.database, urls.redis), burst=args.burst)
    return 0


def _on_database(url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work` with one connection to the database at `url`, closed afterwards."""
    from server import db

    async def go() -> T:
        conn = await db.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(go())


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from server.errors import MigrationError
    from server.migrations import migrate

    urls = _resolved(settings)
    if isinstance(urls, int):
        return urls
    try:
        applied = _on_database(urls.database, migrate)
    except MigrationError as exc:
        return _fail(f"migration refused: {exc}", 1)
    names = [f"{m.version:04d}_{m.name}" for m in applied]
    print("applied: " + ", ".join(names) if names else "migrations are current")
    return 0


DEMO_KEYS = "demo-keys"


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from server.app import close_runtime, open_runtime
    from server.approval import catalogue_service, signing
    from server.approval.seed_kaigong import seed_application
    from server.audit.service import AUDIT_KEY
    from server.bim.seed import seed_bid_pin, seed_rule_sets
    from server.bim.seed_checks import seed_sample_check
    from server.seed import (
        ORGANIZATIONS,
        PROJECTS,
        USERS,
        demo_password,
        seed_accounts,
        seed_bids,
        seed_projects,
        stable_id,
    )
    from server.seed_deliverables import seed_deliverables
    from server.seed_documents import seed_documents
    from server.seed_drawings import seed_drawings

    urls = _resolved(settings)
    if isinstance(urls, int):
        return urls
    settings = settings.model_copy(update={"database_url": urls.database, "redis_url": urls.redis})

    async def go() -> int:
        rt = await open_runtime(settings)
        try:
            async with rt.pool.acquire() as conn:
                await seed_accounts(conn, rt.identity.pii, rt.identity.acl_key, demo_password(settings))
            added = await seed_projects(rt.pool, rt.actors, settings.ask_timeout_s)
            await seed_bids(rt.pool, rt.actors, rt.identity.pii, rt.identity.acl_key, settings.ask_timeout_s)
            audit_key = rt.keys.key(AUDIT_KEY)
            rule_set = await seed_rule_sets(rt.pool, audit_key, stable_id("user", "admin"))
            await catalogue_service.seed_catalogue(rt.pool, audit_key, stable_id("user", "admin"))
            async with rt.pool.acquire() as conn:  # the enterprises' signing certificates (demo key files)
                for code, kind, name, _credit in ORGANIZATIONS:
                    keys_dir = settings.var_path / DEMO_KEYS
                    if kind == "enterprise" and not (keys_dir / f"{code}.sm2.json").exists():
                        await signing.issue_demo_certificate(
                            conn, stable_id("org", code), code, name, keys_dir, only_if_none=False
                        )
            await seed_bid_pin(
                rt.pool, audit_key, stable_id("bid", "demo"), rule_set, stable_id("user", "bidadmin")
            )
            supplier = next(u for u in USERS if u.role == "designer")
            await seed_sample_check(rt.pool, rt.files, rt.arq, audit_key, stable_id("bid", "demo"),
                                    stable_id("user", supplier.login))  # fmt: skip
            code, _, login = PROJECTS[0]
            await seed_documents(
                rt.pool,
                rt.actors,
                stable_id("project", code),
                stable_id("user", login),
                settings.ask_timeout_s,
            )
            owner = next(u for u in USERS if u.login == login)
            uploader = SimpleNamespace(id=stable_id("user", login), login=login)
            await seed_drawings(
                rt.pool, rt.files, rt.keys.key(AUDIT_KEY), stable_id("project", code), uploader,
                stable_id("org", owner.org_code),
            )  # fmt: skip
            second, _, second_owner = PROJECTS[1]
            await seed_application(
                rt.pool, rt.actors, rt.keys, settings.var_path / DEMO_KEYS, rt.files, stable_id("project", second),
                stable_id("user", second_owner), settings.ask_timeout_s,
            )  # fmt: skip
            await seed_deliverables(
                rt.pool, rt.actors, rt.arq, rt.keys, audit_key, stable_id("project", code), stable_id("user", login),
                settings.ask_timeout_s,
            )  # fmt: skip
            return added
        finally:
            await close_runtime(rt)

    added = asyncio.run(go())
    print(f"demo data ready ({added} projects added)")
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from server.audit.service import AUDIT_KEY, verify
    from server.keystore import KeyRing

    urls = _resolved(settings)
    if isinstance(urls, int):
        return urls
    key = KeyRing(settings.keys_path).key(AUDIT_KEY)
    report = _on_database(urls.database, lambda conn: verify(conn, key))
    if report.ok:
        print(f"audit chain intact: {report.entries} entries verified")
        return 0
    assert report.first_break is not None
    brk = report.first_break
    print(f"audit chain BROKEN at entry {brk.seq} ({brk.problem}); {report.entries} earlier entries intact")
    return 1


def cmd_keys(settings: Settings, args: argparse.Namespace) -> int:
    from server.identity.pii import Pii
    from server.identity.users import reseal_all
    from server.keystore import KeyRing

    urls = _resolved(settings)
    if isinstance(urls, int):
        return urls
    pii = Pii(KeyRing(settings.keys_path), settings.pii_key_version)
    count = _on_database(urls.database, lambda conn: reseal_all(conn, pii))
    print(f"personal data of {count} accounts re-encrypted with key pii-{settings.pii_key_version}")
    return 0


def cmd_services(settings: Settings, args: argparse.Namespace) -> int:
    from server.services import ensure_services, service_status, stop_services

    if args.action == "start":
        found = ensure_services(settings.database_url, settings.redis_url, settings.var_path)
        print(f"postgresql: {redacted(found.database_url)}\nredis: {found.redis_url}")
    elif args.action == "stop":
        stopped = stop_services(settings.var_path)
        print("stopped: " + (", ".join(stopped) or "nothing was running"))
    else:
        for status in service_status(settings.var_path):
            state = f"running (pid {status.pid}) at {status.url}" if status.running else "stopped"
            print(f"{status.name}: {state}")
    return 0


def _child(args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "server.cli", *args], env=env, start_new_session=True)


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _ready(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url + "readyz", timeout=1) as response:  # noqa: S310 - our own loopback URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Everything `make run` promises: services, migrations, demo data, web server and worker."""
    from server.seed import USERS, demo_password
    from server.services import ensure_services, stop_services

    started: tuple[str, ...] = ()
    if settings.database_url is None or settings.redis_url is None:
        try:
            found = ensure_services(settings.database_url, settings.redis_url, settings.var_path)
        except Exception as exc:
            return _fail(f"could not start the embedded services: {type(exc).__name__}: {exc}")
        started = found.started
    urls = _resolved(settings)
    if isinstance(urls, int):
        return urls
    env = {**os.environ, "TONGBAN_DATABASE_URL": urls.database, "TONGBAN_REDIS_URL": urls.redis}
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    status = 0
    try:
        for step in (["migrate"], ["seed"]):
            code = subprocess.run(
                [sys.executable, "-m", "server.cli", *step], env=env, check=False
            ).returncode
            if code != 0:
                return code
        children = [_child(["serve"], env), _child(["worker"], env)]
        url = f"http://{settings.host}:{settings.port}/"
        while not stopping and not _ready(url) and all(c.poll() is None for c in children):
            time.sleep(0.2)
        password = demo_password(settings)
        print(f"\ntongban is running at {url}", flush=True)
        print(
            f"demo accounts (password {password}; SMS login: the demo inbox on the 登录 page shows the code):"
        )
        for user in USERS:
            print(f"  {user.login:<14} {user.display_name} ({user.role}, {user.phone})", flush=True)
        keys = settings.var_path / DEMO_KEYS
        print(
            f"enterprise signing keys for 开工一件事 (demo stand-ins for a UKey): {keys}/<credit code>.sm2.json"
        )
        print("Ctrl-C stops everything this command started.\n", flush=True)
        while not stopping:
            dead = [c for c in children if c.poll() is not None]
            if dead:
                status = _fail(f"a child process exited with status {dead[0].returncode}; stopping", 1)
                break
            time.sleep(0.2)
    finally:
        _stop_children(children)
        if started:
            stop_services(settings.var_path, started)
            print("stopped embedded services: " + ", ".join(started), flush=True)
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tongban", description="联审平台与 BIM 监管系统 server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    worker = sub.add_parser("worker", help="run an arq worker")
    worker.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("seed", help="load the demo data (idempotent)")
    services = sub.add_parser("services", help="embedded PostgreSQL and Redis")
    services.add_argument("action", choices=["start", "stop", "status"])
    sub.add_parser("run", help="services, migrations, demo data, web server and worker together")
    keys = sub.add_parser("keys", help="encryption keys of personal data")
    keys.add_argument(
        "action",
        choices=["rotate"],
        help="re-encrypt every value not under key pii-<TONGBAN_PII_KEY_VERSION>",
    )
    audit = sub.add_parser("audit", help="the tamper-evident audit log")
    audit.add_argument(
        "action", choices=["verify"], help="walk the chain; exit 1 naming the first broken entry"
    )
    return parser


COMMANDS = {
    "serve": cmd_serve,
    "worker": cmd_worker,
    "migrate": cmd_migrate,
    "seed": cmd_seed,
    "services": cmd_services,
    "run": cmd_run,
    "audit": cmd_audit,
    "keys": cmd_keys,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    setup_logging(settings.log_level, settings.log_json)
    return COMMANDS[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
