"""Benchmark of the walking skeleton, against its own server and worker on 127.0.0.1.

Measures, in this order, and prints one table:
  1. GET /readyz (anonymous, as a load balancer) at each `--concurrency`;
  2. POST /api/v1/projects at each `--create-concurrency`, then how long the arq worker takes to
     open every archive it was asked for;
  3. GET /api/v1/projects (logged in as a demo applicant; after step 2 the list is a full page) at
     each `--concurrency`;
  4. end to end: POST /api/v1/projects until a websocket subscriber receives the project's
     `project.archive_opened` event (which the worker's report produces);
  5. fan-out: `--subscribers` websockets on one project, the latency of one event to each of them.
Every series is a fixed number of operations by a fixed number of concurrent callers (closed loop);
each caller has its own HTTP connection, as separate browsers would.

Exit status: 0 when every operation succeeded, 1 when any failed.
Must not: run unbounded (fixed counts, every wait has a limit), talk to anything but 127.0.0.1,
or leave processes, its database or its Redis keys behind (see `loadtest.stack`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import math
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from loadtest.stack import LOGIN, Stack, running_stack
from server import db
from tests.support.clients import cookie_header, frame_of_type, next_frame

# httpcore 1.0 runs `import sniffio` each time it sets up a connection lock; when sniffio is not
# installed every such import fails through a scan of sys.path, about 0.3 ms of this client's CPU per
# request. A None entry makes the failed import immediate, with the same outcome (asyncio assumed).
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

PROJECT_NAME = "压测项目"
CSRF_HEADER = "X-CSRF-Token"  # echoed on every state-changing request of a cookie session
HTTP_TIMEOUT_S = 30.0
WARMUP_REQUESTS = 20
ARCHIVE_DRAIN_TIMEOUT_S = 60.0  # the worker must have opened every requested archive by then
E2E_EVENT_TIMEOUT_S = 20.0
E2E_JITTER_S = 0.5  # one arq poll interval (arq's default `poll_delay`, which server/worker.py keeps)
FANOUT_EVENT_TIMEOUT_S = 60.0  # covers starting a worker process on a busy 2-core machine
WS_CONNECT_PARALLEL = 50  # websockets opened at once while gathering subscribers
POLL_S = 0.1

PENDING_ARCHIVES = """
    SELECT count(*) FROM project p
    WHERE NOT EXISTS (
        SELECT 1 FROM actor_event e
        WHERE e.actor_kind = 'project' AND e.actor_id = p.id AND e.type = 'project.archive_opened')"""

OPERATION_ERRORS = (httpx.HTTPError, WebSocketException, TimeoutError, OSError)


class Failed(Exception):
    """An answer other than the one the flow expects."""


@dataclass
class Series:
    phase: str
    what: str
    concurrency: int
    latencies_s: list[float] = field(default_factory=list)
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    untimed: int = 0  # operations counted without a latency of their own (throughput-only rows)
    note: str = ""

    @property
    def succeeded(self) -> int:
        return len(self.latencies_s) + self.untimed

    @property
    def count(self) -> int:
        return self.succeeded + self.failures

    @property
    def per_s(self) -> float:
        return self.succeeded / self.wall_s if self.wall_s else 0.0

    def fail(self, exc: BaseException) -> None:
        self.failures += 1
        if len(self.errors) < 3:
            self.errors.append(f"{type(exc).__name__}: {exc}"[:200])


def percentile_ms(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] * 1000


Operation = Callable[[int], Awaitable[float | None]]


async def closed_loop(series: Series, total: int, op: Operation) -> Series:
    """Run `total` operations with `series.concurrency` callers; `op(k)` is called by caller k. An op
    returns None to be timed from call to return, or its own latency in seconds."""
    issued = 0

    async def caller(k: int) -> None:
        nonlocal issued
        while issued < total:
            issued += 1
            started = time.perf_counter()
            try:
                measured = await op(k)
            except (Failed, *OPERATION_ERRORS) as exc:
                series.fail(exc)
            else:
                series.latencies_s.append(time.perf_counter() - started if measured is None else measured)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for k in range(min(series.concurrency, total)):
            group.create_task(caller(k))
    series.wall_s = time.perf_counter() - started
    return series


@contextlib.asynccontextmanager
async def http_callers(
    base_url: str, count: int, credentials: tuple[str, str] | None
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` clients with one keep-alive connection each (one shared pool of many connections
    costs httpcore O(connections) per request), all in the same session when `credentials` (login,
    password) are given: one password login's cookie, and its CSRF token sent as the pages' script does."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT_S, limits=limits)]
    try:
        if credentials is not None:
            login, password = credentials
            body = {"login": login, "password": password}
            session = expect(await clients[0].post("/api/v1/login", json=body), 200).json()
            clients[0].headers[CSRF_HEADER] = session["csrf_token"]
        for _ in range(count - 1):
            clients.append(
                httpx.AsyncClient(
                    base_url=base_url,
                    timeout=HTTP_TIMEOUT_S,
                    limits=limits,
                    cookies=clients[0].cookies,
                    headers=clients[0].headers,
                )
            )
        yield clients
    finally:
        for client in clients:
            await client.aclose()


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise Failed(f"{response.request.method} {response.request.url.path} → {response.status_code}")
    return response


def new_code() -> str:
    n = uuid.uuid4().int  # a 项目代码 with the GB/T 40058-2021 structure
    return f"2026-32{n % 10**4:04d}-47-01-{n // 10**4 % 10**6:06d}"


async def create_project(client: httpx.AsyncClient) -> str:
    body = {"code": new_code(), "name": PROJECT_NAME}
    return str(expect(await client.post("/api/v1/projects", json=body), 201).json()["id"])


def report(series: Series) -> Series:
    p50, p95 = (percentile_ms(series.latencies_s, q) for q in (50, 95))
    print(
        f"  {series.what:<36} c={series.concurrency:<4} n={series.count:<5} fail={series.failures:<3} "
        f"p50={p50:7.1f} ms  p95={p95:7.1f} ms  {series.per_s:7.1f}/s  {series.note}",
        flush=True,
    )
    return series


async def bench_get(
    clients: list[httpx.AsyncClient], phase: str, path: str, levels: Sequence[int], total: int, note: str = ""
) -> list[Series]:
    for client in clients:  # open every connection before timing anything
        expect(await client.get(path), 200)
    for _ in range(WARMUP_REQUESTS):
        expect(await clients[0].get(path), 200)

    async def op(k: int) -> None:
        expect(await clients[k].get(path), 200)

    return [report(await closed_loop(Series(phase, f"GET {path}", c, note=note), total, op)) for c in levels]


async def pending_archives(database_url: str) -> int:
    conn = await db.connect(database_url)
    try:
        return int(await conn.fetchval(PENDING_ARCHIVES))
    finally:
        await conn.close()


async def count_projects(database_url: str) -> int:
    conn = await db.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM project"))
    finally:
        await conn.close()


async def wait_for_archives(database_url: str, timeout_s: float) -> int:
    """Wait until every project has its archive_opened event; returns how many still lack it."""
    deadline = time.monotonic() + timeout_s
    left = await pending_archives(database_url)
    while left and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)  # another process does the work; a bounded poll is all we have
        left = await pending_archives(database_url)
    return left


async def bench_create(
    clients: list[httpx.AsyncClient], stack: Stack, levels: Sequence[int], total: int
) -> list[Series]:
    async def op(k: int) -> None:
        await create_project(clients[k])

    first_post = time.perf_counter()
    results = [
        report(await closed_loop(Series("create", "POST /api/v1/projects", c), total, op)) for c in levels
    ]
    posted = time.perf_counter()
    left = await wait_for_archives(stack.database_url, ARCHIVE_DRAIN_TIMEOUT_S)
    done = time.perf_counter()
    made = sum(s.succeeded for s in results)
    drain = Series(
        "create", "archive jobs → archive_opened", 1, wall_s=done - first_post, untimed=made - left
    )
    drain.failures = left
    if left:
        drain.errors.append(f"{left} projects still had no archive after {ARCHIVE_DRAIN_TIMEOUT_S:.0f}s")
    drain.note = (
        f"{made - left} in {drain.wall_s:.1f}s from the first POST; last {done - posted:.1f}s after the POSTs"
    )
    results.append(report(drain))
    return results


async def open_subscriber(
    stack: Stack, project_id: str, headers: dict[str, str], since: int | None
) -> ClientConnection:
    query = f"?since={since}" if since is not None else ""
    url = f"{stack.server.ws_url}/ws/projects/{project_id}{query}"
    return await connect(url, additional_headers=headers, open_timeout=HTTP_TIMEOUT_S, max_queue=64)


async def bench_e2e(
    clients: list[httpx.AsyncClient], stack: Stack, levels: Sequence[int], samples: int
) -> list[Series]:
    headers = cookie_header(clients[0])

    async def op(k: int) -> float:
        # A caller that posted right after its last event would stay in step with the worker's
        # queue polling and see the same delay every time; a random pause makes arrivals random.
        await asyncio.sleep(random.uniform(0, E2E_JITTER_S))
        started = time.perf_counter()
        project_id = await create_project(clients[k])
        ws = await open_subscriber(stack, project_id, headers, since=0)
        try:
            await frame_of_type(ws, "project.archive_opened", timeout=E2E_EVENT_TIMEOUT_S)
            return time.perf_counter() - started
        finally:
            await ws.close()

    what = "POST → ws project.archive_opened"
    return [report(await closed_loop(Series("e2e", what, c), samples, op)) for c in levels]


async def bench_fan_out(client: httpx.AsyncClient, stack: Stack, subscribers: int) -> list[Series]:
    """One project, `subscribers` websockets on it, one event: the archive_opened produced by a
    worker started after they all subscribed. Latency is from the event's stamp (`at`, the time of
    the transaction that recorded it) to each receipt, both read from this machine's one clock."""
    await asyncio.to_thread(stack.stop_workers)  # hold the archive job in the queue until all listen
    headers = cookie_header(client)
    project_id = await create_project(client)
    sockets: list[ClientConnection] = []

    async def subscribe(k: int) -> None:
        ws = await open_subscriber(stack, project_id, headers, since=None)
        sockets.append(ws)
        first = await next_frame(ws)
        if (first["type"], first["seq"]) != ("snapshot", 1):
            raise Failed(f"expected the snapshot at seq 1, got {first['type']} at {first['seq']}")

    connecting = report(
        await closed_loop(
            Series("fan-out", "ws connect + snapshot", min(WS_CONNECT_PARALLEL, subscribers)),
            subscribers,
            subscribe,
        )
    )
    received_at: list[float] = []
    delivery = Series("fan-out", f"one event → {len(sockets)} subscribers", len(sockets))

    async def receive(ws: ClientConnection) -> None:
        try:
            event = await frame_of_type(ws, "project.archive_opened", timeout=FANOUT_EVENT_TIMEOUT_S)
        except OPERATION_ERRORS as exc:
            delivery.fail(exc)
            return
        now = time.time()
        received_at.append(now)
        delivery.latencies_s.append(now - datetime.fromisoformat(event["at"]).timestamp())

    try:
        async with asyncio.TaskGroup() as group:
            for ws in sockets:
                group.create_task(receive(ws))
            group.create_task(asyncio.to_thread(stack.start_worker))
    finally:
        gate = asyncio.Semaphore(WS_CONNECT_PARALLEL * 4)

        async def close(ws: ClientConnection) -> None:
            async with gate:
                await ws.close()

        await asyncio.gather(*(close(ws) for ws in sockets), return_exceptions=True)
    if received_at:
        delivery.wall_s = max(received_at) - min(received_at)
        first_ms = percentile_ms(delivery.latencies_s, 0)
        last_ms = delivery.wall_s * 1000
        delivery.note = (
            f"first receipt {first_ms:.1f} ms after the event, the last {last_ms:.1f} ms after the first"
        )
    return [connecting, report(delivery)]


def report_failures(results: Sequence[Series]) -> int:
    """Print every recorded failure; returns how many operations failed."""
    for s in results:
        for error in s.errors:
            print(f"failure in {s.phase} / {s.what} (c={s.concurrency}): {error}")
    return sum(s.failures for s in results)


def finish(started: float, failed: int) -> int:
    """Print the closing line of a run; the exit status is non-zero when anything failed."""
    elapsed_s = time.perf_counter() - started
    print(f"finished in {elapsed_s:.1f}s with {failed} failed operations; load {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


def print_table(series: Sequence[Series]) -> None:
    head = ("phase", "what", "conc", "n", "fail", "p50 ms", "p95 ms", "p99 ms", "max ms", "ops/s")
    rows = [
        (
            s.phase,
            s.what,
            str(s.concurrency),
            str(s.count),
            str(s.failures),
            *(f"{percentile_ms(s.latencies_s, q):.1f}" if s.latencies_s else "-" for q in (50, 95, 99, 100)),
            f"{s.per_s:.0f}",
        )
        for s in series
    ]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    rule = "+".join("-" * (w + 2) for w in widths)
    print(rule)
    print("|".join(f" {h:<{w}} " for h, w in zip(head, widths, strict=True)))
    print(rule)
    for row in rows:
        cells = (
            f" {v:<{w}} " if i < 2 else f" {v:>{w}} "
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        )
        print("|".join(cells))
    print(rule)
    for s in series:
        if s.note:
            print(f"  {s.phase} / {s.what} (c={s.concurrency}): {s.note}")


def print_rows(rows: Sequence[Sequence[str]]) -> None:
    """Rows of cells as aligned columns (what / result / target / detail)."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), or NaN where that is not available."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def describe_machine() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        )
        commit = done.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        commit = "?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now(UTC).isoformat(timespec='seconds')}  {os.cpu_count()} cpus  load {load}  "
        f"python {platform.python_version()}  commit {commit}"
    )


async def run(stack: Stack, args: argparse.Namespace) -> list[Series]:
    callers = max(*args.concurrency, *args.create_concurrency, *args.e2e_concurrency)
    url = stack.server.url
    async with (
        http_callers(url, callers, None) as anonymous,
        http_callers(url, callers, (LOGIN, stack.password)) as users,
    ):
        results: list[Series] = []
        print("readiness", flush=True)
        results += await bench_get(anonymous, "ready", "/readyz", args.concurrency, args.requests)
        print("project registration", flush=True)
        results += await bench_create(users, stack, args.create_concurrency, args.requests)
        listed = len(expect(await users[0].get("/api/v1/projects"), 200).json()["items"])
        print("project list", flush=True)
        note = f"{listed} rows per answer"
        results += await bench_get(users, "list", "/api/v1/projects", args.concurrency, args.requests, note)
        print("end to end", flush=True)
        results += await bench_e2e(users, stack, args.e2e_concurrency, args.e2e_samples)
        print("fan-out", flush=True)
        results += await bench_fan_out(users[0], stack, args.subscribers)
    return results


def int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected comma-separated positive integers") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("expected comma-separated positive integers")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_skeleton", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--requests", type=int, default=1000, help="requests per HTTP series (default 1000)")
    add(
        "--concurrency",
        type=int_list,
        default=[1, 10, 100],
        help="callers of the GET series (default 1,10,100)",
    )
    add(
        "--create-concurrency",
        type=int_list,
        default=[10, 100],
        help="callers of the POST series (default 10,100)",
    )
    add("--e2e-samples", type=int, default=40, help="projects per end-to-end series (default 40)")
    add(
        "--e2e-concurrency",
        type=int_list,
        default=[1, 10],
        help="callers of the end-to-end series (default 1,10)",
    )
    add("--subscribers", type=int, default=1000, help="websockets of the fan-out (default 1000)")
    args = parser.parse_args(argv)
    if min(args.requests, args.e2e_samples, args.subscribers) < 1:
        parser.error("--requests, --e2e-samples and --subscribers must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    print(
        f"bench_skeleton  {describe_machine()}\ncommand: python -m loadtest.bench_skeleton {shown}".rstrip()
    )
    started = time.perf_counter()
    with running_stack("bench") as stack:
        rss_before = rss_mb(stack.server.proc.pid)
        results = asyncio.run(run(stack, args))
        rss_after = rss_mb(stack.server.proc.pid)
        projects = asyncio.run(count_projects(stack.database_url))
        problems, examples = stack.log_problems()
    print_table(results)
    failed = report_failures(results)
    print(f"server RSS {rss_before:.0f} MB after start, {rss_after:.0f} MB at the end ({projects} projects)")
    print(f"server and worker logs: {problems} warning/error lines")
    for example in examples:
        print(f"  {example}")
    return finish(started, failed)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the stack has been torn down on the way out
        print("interrupted", file=sys.stderr)
        sys.exit(130)
