"""Collaborative editing (y-websocket protocol): our server side by side with y-websocket's own server
(`@y/websocket-server` 0.1.5, Node) and `pycrdt-websocket` 0.16, shape by shape, in one run.

    .venv/bin/python -m loadtest.bench_collab [--shapes 1,2,3,4,5,6,7,docs1000] [--runs 2]
        [--duration 15] [--servers tongban,node,pycrdt] [--procs 2]

(PostgreSQL and Redis: TONGBAN_DATABASE_URL / TONGBAN_REDIS_URL as for every `loadtest.stack` bench.)
Every document is first opened by one client, then the others join (pycrdt-websocket 0.16 hangs
clients that open a new room concurrently), except in the join storm (shape 5), which is about that.

Servers, each started afresh for every shape and run and stopped (by its pid) afterwards, all on
127.0.0.1 only:
  * tongban: one node of our server (`Stack.start_node`, uvicorn + wsproto) on a throwaway stack
    (`loadtest.stack`: fresh database and Redis prefix, no worker). Documents are made with
    `POST /api/v1/projects/{id}/documents` by the demo applicant, whose session cookie every socket
    carries. Every update is journalled in PostgreSQL before it is broadcast: the CPU of this
    database's PostgreSQL backends is shown apart ("db CPU").
  * node: `node loadtest/collab_ref/node_modules/@y/websocket-server/src/server.js` (`npm ci` in
    loadtest/collab_ref), no persistence, no auth.
  * pycrdt: `loadtest/collab_ref/pycrdt_server.py` (pycrdt-websocket's WebsocketServer under uvicorn,
    configured as ours), no store, no auth. Needs the `bench` extra.
Clients (`loadtest.yjs_load`, `--procs` processes, clients dealt round-robin so each document has
clients in every process): pycrdt documents on raw asyncio sockets; an editor inserts an ASCII
marker `[gid:seq:t_us]` at index 0 at a fixed rate; latency = receipt at each other client − t_us
(per delivery; "all" = per edit, the slowest of its receivers); deliveries/s = measured update
deliveries / measured window. Server CPU (% of one core) and RSS from /proc of its pid; the load
generator's CPU likewise (its processes share the 2 cores with the server: see "gen CPU").
Convergence: after the edits, every client's text has the length of everything sent and all hold
the same text (digest), and so does a late joiner.

Shapes (`--shapes`):
  1  50 editors in one doc, 2 inserts/s each, a cursor awareness update with every edit
  2  review: 200 in one doc, 20 of them editing at 2/s
  3  200 editors in one doc at 0.5/s each (~20k deliveries/s)
  4  5,000 idle connections over 500 docs: connect wall, RSS per connection, idle CPU, RSS after close
  5  join storm: 500 clients open one new doc at once: handshake (TCP connect → step 2 applied)
  6  200 clients join a 0.7 MB document at once: handshake
  7  50 in one doc, 40 editing at 2/s with awareness (each edit ~1 KB, `--stall-pad`, so the stalled
     sockets' kernel buffers fill), 10 (SO_RCVBUF 4 KiB) stop reading for `--stall-s` (10): the
     others' latency, server RSS growth per stalled client, how stalled clients end, catch up or resync
  docs1000  1,000 documents, one client each, 4 KB typed into each: server RSS
Prints a table per shape and one JSON line per shape; exit status 1 when a run did not converge.
Must not: run unbounded (`--timeout-s`; every wait has a limit), talk to anything but 127.0.0.1, or
leave processes (each is stopped by its pid), its database or Redis keys behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from loadtest.bench_skeleton import create_project, describe_machine, expect
from loadtest.children import raise_fd_limit
from loadtest.stack import LOGIN, Stack, running_stack
from loadtest.wsclient import hist_percentile_ms, proc_cpu_s, proc_kib
from loadtest.yjs_load import LoadProcess
from server import db
from server.config import Settings
from tests.support.clients import cookie_header
from tests.support.processes import ServerChild, free_port

HERE = Path(__file__).resolve().parent
REF_DIR = HERE / "collab_ref"
NODE_SERVER = REF_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
PYCRDT_SERVER = REF_DIR / "pycrdt_server.py"
CSRF_HEADER = "X-CSRF-Token"
SERVERS = ("tongban", "node", "pycrdt")
ALL_SHAPES = ("1", "2", "3", "4", "5", "6", "7", "docs1000")
STALL_RCVBUF = 4096  # the kernel doubles it: ~8 KiB of receive window, then the server must hold the rest
SAMPLE_S = 0.25
START_TIMEOUT_S = 30.0
BACKEND_PIDS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


# -- servers ------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    port: int
    pid: int
    headers: dict[str, str]
    stop: Callable[[], None]
    new_docs: Callable[[int], Awaitable[list[str]]]
    database_url: str | None = None


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not listen within {START_TIMEOUT_S}s")


def stop_proc(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Servers:
    """Starts the three kinds of server, one at a time, each on a port of its own."""

    def __init__(
        self, stack: Stack | None, api: httpx.AsyncClient | None, project_id: str, logs: Path
    ) -> None:
        self.stack = stack
        self.api = api
        self.project_id = project_id
        self.logs = logs
        self.count = 0

    async def start(self, name: str, tag: str) -> Target:
        self.count += 1
        match name:
            case "tongban":
                return await self._tongban(tag)
            case "node":
                return self._ref(name, ["node", str(NODE_SERVER)], tag)
            case "pycrdt":
                return self._ref(name, [sys.executable, str(PYCRDT_SERVER)], tag)
        raise ValueError(name)

    def _ref(self, name: str, argv: list[str], tag: str) -> Target:
        port = free_port()
        log = self.logs / f"{name}-{tag}.log"
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}
        if name == "pycrdt":
            argv = [*argv, "--port", str(port)]
        with log.open("ab") as out:
            proc = subprocess.Popen(argv, cwd=REF_DIR, env=env, stdout=out, stderr=out)
        try:
            wait_port(port, proc, log)
        except BaseException:
            stop_proc(proc)
            raise

        async def new_docs(n: int) -> list[str]:
            return [f"/bench-{uuid.uuid4().hex}" for _ in range(n)]

        return Target(name, port, proc.pid, {}, lambda: stop_proc(proc), new_docs)

    async def _tongban(self, tag: str) -> Target:
        assert self.stack is not None
        assert self.api is not None
        stack, api = self.stack, self.api
        child: ServerChild = await asyncio.to_thread(stack.start_node, f"collab-{tag}")

        def stop() -> None:
            child.stop()
            if child in stack.nodes:
                stack.nodes.remove(child)

        async def new_docs(n: int) -> list[str]:
            gate = asyncio.Semaphore(20)
            paths: list[str] = [""] * n

            async def one(i: int) -> None:
                async with gate:
                    body = {"title": f"压测文档 {i}"}
                    answer = await api.post(f"/api/v1/projects/{self.project_id}/documents", json=body)
                    paths[i] = expect(answer, 201).json()["ws_path"]

            await asyncio.gather(*(one(i) for i in range(n)))
            return paths

        return Target(
            "tongban", child.port, child.proc.pid, cookie_header(api), stop, new_docs, stack.database_url
        )


# -- measuring ----------------------------------------------------------------------------------------


class Sampler:
    """RSS of a process every SAMPLE_S, with timestamps (wall clock)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self.task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(OSError):
                self.samples.append((time.time(), proc_kib(self.pid)))
            await asyncio.sleep(SAMPLE_S)

    def __enter__(self) -> Sampler:
        self.task = asyncio.get_running_loop().create_task(self._loop())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.task is not None:
            self.task.cancel()

    def peak(self, start: float, end: float) -> int:
        return max((kib for t, kib in self.samples if start <= t <= end), default=-1)


async def backend_cpu(database_url: str | None) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend of this database (our server's pool)."""
    if database_url is None:
        return {}
    conn = await db.connect(database_url)
    try:
        pids = [r["pid"] for r in await conn.fetch(BACKEND_PIDS)]
    finally:
        await conn.close()
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            out[pid] = proc_cpu_s(pid)
    return out


@dataclass
class Window:
    """CPU of the server, its database backends and the generator over a stretch of wall time."""

    target: Target
    procs: list[LoadProcess]
    t0: float = 0.0
    cpu0: float = 0.0
    db0: dict[int, float] = field(default_factory=dict)
    gen0: list[float] = field(default_factory=list)
    rss0: int = 0
    out: dict[str, Any] = field(default_factory=dict)

    async def start(self) -> None:
        self.db0 = await backend_cpu(self.target.database_url)
        self.t0 = time.perf_counter()
        self.cpu0 = proc_cpu_s(self.target.pid)
        self.gen0 = [proc_cpu_s(p.pid) for p in self.procs]
        self.rss0 = proc_kib(self.target.pid)

    async def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.t0
        cpu = proc_cpu_s(self.target.pid) - self.cpu0
        gen = [proc_cpu_s(p.pid) - c for p, c in zip(self.procs, self.gen0, strict=True)]
        rss = proc_kib(self.target.pid)
        db1 = await backend_cpu(self.target.database_url)
        db_cpu = sum(v - self.db0.get(pid, 0.0) for pid, v in db1.items())
        self.out = {
            "wall_s": round(wall, 2),
            "server_cpu_pct": round(100 * cpu / wall, 1),
            "db_cpu_pct": round(100 * db_cpu / wall, 1) if self.target.database_url else None,
            "gen_cpu_pct": [round(100 * g / wall, 1) for g in gen],
            "rss_start_kib": self.rss0,
            "rss_end_kib": rss,
        }
        return self.out


def proc_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def handshake_summary(times: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(times),
        **{f"p{q}_ms": round(pct(times, q), 1) for q in (50, 95, 99)},
        "max_ms": round(max(times, default=math.nan), 1),
    }


def latency_summary(reports: Sequence[dict[str, Any]], group: str = "main") -> dict[str, float]:
    hist: Counter[int] = Counter()
    for r in reports:
        for bucket, count in r["hist"].get(group, {}).items():
            hist[int(bucket)] += count
    return {
        "n": sum(hist.values()),
        **{f"p{q}_ms": round(hist_percentile_ms(hist, q), 1) for q in (50, 95, 99)},
        "max_ms": round(hist_percentile_ms(hist, 100), 1),
    }


def per_edit_summary(reports: Sequence[dict[str, Any]], receivers: dict[int, int]) -> dict[str, Any]:
    """The latency of each edit to the slowest of its receivers, and how many edits reached all."""
    merged: dict[str, list[float]] = {}
    for r in reports:
        for key, (count, worst) in r["per_edit"].items():
            entry = merged.setdefault(key, [0, 0.0])
            entry[0] += count
            entry[1] = max(entry[1], worst)
    complete = sum(
        1 for key, (count, _) in merged.items() if count >= receivers.get(int(key.split(":")[0]), 0)
    )
    worst = [w for _, w in merged.values()]
    return {"edits": len(merged), "complete": complete, "p50_ms": round(pct(worst, 50), 1),
            "p99_ms": round(pct(worst, 99), 1)}  # fmt: skip


class Run:
    """One shape against one server: its client processes and what they report."""

    def __init__(self, target: Target, args: argparse.Namespace) -> None:
        self.target = target
        self.args = args
        self.procs: list[LoadProcess] = []
        self.specs: list[dict[str, Any]] = []
        self.expected: dict[str, int] = {}

    def spec(self, gid: int, path: str, **kw: Any) -> dict[str, Any]:
        return {"gid": gid, "port": self.target.port, "path": path, **kw}

    async def start(self, specs: list[dict[str, Any]], parallel: int) -> None:
        self.specs = specs
        n = max(1, min(self.args.procs, len(specs)))
        configs = [
            {"deadline_s": self.args.timeout_s, "headers": self.target.headers, "parallel": parallel,
             "clients": specs[k::n]}
            for k in range(n)
        ]  # fmt: skip
        for config in configs:
            self.procs.append(await LoadProcess.start(config))

    async def all(self, cmd: dict[str, Any], timeout_s: float) -> list[dict[str, Any]]:
        return await asyncio.gather(*(p.command(cmd, timeout_s) for p in self.procs))

    async def connect(self, timeout_s: float = 60.0, openers_first: bool = True) -> dict[str, Any]:
        """Open every client. `openers_first`: one client per document first, then the others (a
        document is usually opened by someone before the rest join; pycrdt-websocket 0.16 hangs the
        handshakes of clients that open a new room concurrently, see `join_storm`)."""
        phases: list[list[dict[str, Any]]] = []
        started = time.perf_counter()
        if openers_first:
            first: dict[str, int] = {}
            for s in self.specs:
                first.setdefault(s["path"], s["gid"])
            cmd = {"cmd": "connect", "timeout_s": timeout_s, "gids": list(first.values())}
            phases.append(await self.all(cmd, timeout_s + 30))
        phases.append(await self.all({"cmd": "connect", "timeout_s": timeout_s}, timeout_s + 30))
        answers = [a for phase in phases for a in phase]
        times = [t for a in answers for t in a["handshake_ms"]]
        return {
            "ok": sum(a["ok"] for a in answers),
            "failed": sum(a["failed"] for a in answers),
            "wall_s": round(time.perf_counter() - started, 2),
            "handshake": handshake_summary(times),
        }

    def add_sent(self, answers: Sequence[dict[str, Any]]) -> None:
        """Expected text length per document: what every process says its clients typed (cumulative)."""
        totals: dict[str, int] = {}
        for a in answers:
            for path, (_, chars) in a["sent"].items():
                totals[path] = totals.get(path, 0) + chars
        self.expected.update(totals)

    async def converge(self, sample_docs: int = 20, timeout_s: float = 30.0) -> dict[str, Any]:
        paths = sorted({s["path"] for s in self.specs})
        expected = {p: self.expected.get(p, 0) for p in paths}
        settled = await self.all(
            {"cmd": "settle", "expected": expected, "timeout_s": timeout_s}, timeout_s + 30
        )
        hashes: dict[str, set[str]] = {}
        for s in settled:
            for path, hs in s["hashes"].items():
                hashes.setdefault(path, set()).update(hs)
        late_specs = [self.spec(1_000_000 + i, p) for i, p in enumerate(paths[:sample_docs])]
        joined = await self.procs[0].command({"cmd": "join", "specs": late_specs, "timeout_s": 30}, 90)
        late_ok = all(
            len(hashes.get(p, ())) == 1 and h in hashes.get(p, ()) for p, h in joined["hashes"].items()
        )
        short = sum(s["short"] for s in settled)
        disconnected = sum(s["disconnected"] for s in settled)
        diverged = sum(1 for hs in hashes.values() if len(hs) != 1)
        return {
            "converged": short == 0 and diverged == 0 and disconnected == 0 and late_ok,
            "disconnected_clients": disconnected,
            "short_clients": short,
            "diverged_docs": diverged,
            "late_joiners_agree": late_ok,
            "late_joiners": len(late_specs),
            "settle_s": max(s["wall_s"] for s in settled),
        }

    async def report(self) -> list[dict[str, Any]]:
        return await self.all({"cmd": "report"}, 60)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.all({"cmd": "close"}, 40)
        await asyncio.gather(*(p.stop() for p in self.procs), return_exceptions=True)


def problems(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    closes: Counter[str] = Counter()
    for r in reports:
        closes.update(r["closes"])
    return {
        "reconnects": sum(r["reconnects"] for r in reports),
        "closes": dict(closes),
        "errors": sum(r["errors"] for r in reports),
        "first_errors": [e for r in reports for e in r["first_errors"]][:3],
    }


# -- shapes -------------------------------------------------------------------------------------------


async def editing(
    target: Target,
    args: argparse.Namespace,
    *,
    clients: int,
    editors: int,
    rate: float,
    awareness: bool,
    stalled: int = 0,
    pad: int = 0,
) -> dict[str, Any]:
    """`clients` in one new document, the first `editors` typing at `rate`/s (each edit the marker and
    `pad` more characters); with `stalled`, that many non-editing clients (small receive buffer) stop
    reading for `--stall-s`, 1 s into the measured window."""
    run = Run(target, args)
    try:
        (path,) = await target.new_docs(1)
        specs = []
        for gid in range(clients):
            is_stalled = gid >= clients - stalled
            kw: dict[str, Any] = {"rate": rate if gid < editors else 0.0, "awareness": awareness, "pad": pad}
            if is_stalled:
                kw.update(group="stall", rcvbuf=STALL_RCVBUF)
            specs.append(run.spec(gid, path, **kw))
        await run.start(specs, parallel=50)
        connect = await run.connect()
        await asyncio.sleep(1.0)
        start = time.time() + 0.3
        measure_from = start + args.warmup
        stop = measure_from + args.duration
        cmd: dict[str, Any] = {"cmd": "edit", "start": start, "measure_from": measure_from, "stop": stop}
        stall = None
        if stalled:
            stall = {"gids": [s["gid"] for s in specs if s.get("group") == "stall"],
                     "at": measure_from + 1.0, "until": measure_from + 1.0 + args.stall_s}  # fmt: skip
            stop = max(stop, stall["until"] + 3.0)
            cmd.update(stop=stop, stall=stall)
        window = Window(target, run.procs)
        with Sampler(target.pid) as sampler:
            edits = asyncio.gather(*(p.command(cmd, stop - time.time() + 60) for p in run.procs))
            await asyncio.sleep(max(0.0, measure_from - time.time()))
            await window.start()
            await asyncio.sleep(max(0.0, stop - time.time()))
            measured = await window.stop()
            answers = await edits
            run.add_sent(answers)
            conv = await run.converge()
            await asyncio.sleep(SAMPLE_S)
        reports = await run.report()
        deliveries = sum(r["deliveries"] for r in reports)
        receivers = {s["gid"]: clients - stalled - 1 for s in specs if s["rate"] > 0}
        timeline: dict[int, float] = {}
        for r in reports:
            for sec, ms in r["timeline"].items():
                timeline[int(sec)] = max(timeline.get(int(sec), 0.0), ms)
        out: dict[str, Any] = {
            "connect": connect,
            "window": measured,
            "worst_ms_by_second": [round(timeline[k]) for k in sorted(timeline)],
            "latency": latency_summary(reports),
            "all_receivers": per_edit_summary(reports, receivers),
            "deliveries_per_s": round(deliveries / (stop - measure_from)),
            "edits": sum(e for a in answers for e, _ in a["sent"].values()),
            "awareness_rx": sum(r["awareness_rx"] for r in reports),
            "echoes": sum(r["echoes"] for r in reports),
            "convergence": conv,
            **problems(reports),
            "server_alive": proc_alive(target.pid),
        }
        if stall is not None:
            stalled_gids = {str(g) for g in stall["gids"]}
            closes_by_gid = {g: c for r in reports for g, c in r["closes_by_gid"].items()}
            recover = [
                ms for r in reports for g, v in r["recover_ms"].items() if g in stalled_gids for ms in v
            ]
            base = min(
                (kib for t, kib in sampler.samples if t >= stall["at"]), default=measured["rss_start_kib"]
            )
            peak = sampler.peak(stall["at"], stall["until"] + 1.0)
            out["stall"] = {
                "stalled": len(stall["gids"]),
                "cut_off": sum(1 for g in stalled_gids if g in closes_by_gid),
                "close_codes": dict(Counter(c for g in stalled_gids for c in closes_by_gid.get(g, []))),
                "others_cut_off": sum(1 for g in closes_by_gid if g not in stalled_gids),
                "recovered": len(recover),
                "recover_ms_max": round(max(recover, default=math.nan), 1),
                "rss_growth_kib": peak - base,
                "rss_growth_per_stalled_kib": round((peak - base) / len(stall["gids"])),
                "stalled_latency": latency_summary(reports, "stall"),
                "catch_up_ms": max(
                    (r["catch_up_ms"] for r in reports if r["catch_up_ms"] is not None), default=None
                ),
            }
        return out
    finally:
        await run.close()


async def idle_connections(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Shape 4: `--idle-docs` documents × `--idle-per-doc` idle sockets."""
    run = Run(target, args)
    try:
        paths = await target.new_docs(args.idle_docs)
        specs = [
            run.spec(i * args.idle_docs + d, p) for i in range(args.idle_per_doc) for d, p in enumerate(paths)
        ]
        await run.start(specs, parallel=args.connect_parallel)
        await asyncio.sleep(2.0)
        window = Window(target, run.procs)
        await window.start()
        connect = await run.connect(timeout_s=60)
        connect_cpu = await window.stop()
        await asyncio.sleep(2.0)
        rss_connected = proc_kib(target.pid)
        idle = Window(target, run.procs)
        await idle.start()
        await asyncio.sleep(args.idle_s)
        idle_out = await idle.stop()
        conv = await run.converge(sample_docs=20)
        reports = await run.report()
        closed_at = time.perf_counter()
        await run.close()
        await asyncio.sleep(args.after_close_s)
        rss_after = proc_kib(target.pid)
        ok = connect["ok"]
        return {
            "connect": connect,
            "window": connect_cpu,
            "rss_before_kib": connect_cpu["rss_start_kib"],
            "rss_connected_kib": rss_connected,
            "kib_per_conn": round((rss_connected - connect_cpu["rss_start_kib"]) / max(1, ok), 1),
            "idle": idle_out,
            "rss_after_close_kib": rss_after,
            "after_close_s": round(time.perf_counter() - closed_at, 1),
            "convergence": conv,
            **problems(reports),
        }
    finally:
        await run.close()


async def join_storm(
    target: Target, args: argparse.Namespace, *, clients: int, fill_chunks: int = 0, fill_size: int = 0
) -> dict[str, Any]:
    """Shapes 5 and 6: `clients` open one document at once; with `fill_chunks`, a writer first types
    that many chunks of `fill_size` characters into it (and stays connected meanwhile)."""
    (path,) = await target.new_docs(1)
    filled: dict[str, Any] = {}
    expected = 0
    writer = Run(target, args)
    run = Run(target, args)
    try:
        if fill_chunks:
            # the writer stays connected: pycrdt-websocket drops a room (no store) when its last client goes
            await writer.start([writer.spec(9_999_999, path)], parallel=1)
            await writer.connect()
            answers = await writer.all({"cmd": "fill", "gids": [9_999_999], "chunks": fill_chunks,
                                        "size": fill_size}, 120)  # fmt: skip
            expected = answers[0]["sent"][path][1]
            filled = {"chars": expected, "wall_s": answers[0]["wall_s"], "errors": writer_errors(answers)}
            await asyncio.sleep(1.0)
        await run.start([run.spec(gid, path) for gid in range(clients)], parallel=clients)
        await asyncio.sleep(1.0)
        window = Window(target, run.procs)
        with Sampler(target.pid) as sampler:
            await window.start()
            connect = await run.connect(timeout_s=args.storm_timeout_s, openers_first=False)
            measured = await window.stop()
            peak = sampler.peak(0, time.time())
        # one live edit after the storm (by client 0): everyone must receive it too
        answer = await run.procs[0].command({"cmd": "fill", "gids": [0], "chunks": 1, "size": 16}, 60)
        run.expected[path] = expected + answer["sent"].get(path, [0, 0])[1]
        conv = await run.converge(timeout_s=10.0 if connect["failed"] else 30.0)
        reports = await run.report()
        return {
            "filled": filled,
            "connect": connect,
            "window": measured,
            "rss_peak_kib": peak,
            "convergence": conv,
            **problems(reports),
        }
    finally:
        await run.close()
        await writer.close()


def writer_errors(answers: Sequence[dict[str, Any]]) -> int:
    return sum(int(a.get("errors", 0)) for a in answers)


async def many_docs(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """docs1000: `--many-docs` documents, one client each typing `--many-chunks` × `--many-size`."""
    run = Run(target, args)
    try:
        paths = await target.new_docs(args.many_docs)
        specs = [run.spec(gid, p) for gid, p in enumerate(paths)]
        await run.start(specs, parallel=args.connect_parallel)
        await asyncio.sleep(1.0)
        window = Window(target, run.procs)
        await window.start()
        connect = await run.connect(timeout_s=60)
        gids = [[s["gid"] for s in specs[k :: len(run.procs)]] for k in range(len(run.procs))]
        answers = await asyncio.gather(
            *(p.command({"cmd": "fill", "gids": g, "chunks": args.many_chunks, "size": args.many_size}, 300)
              for p, g in zip(run.procs, gids, strict=True))
        )  # fmt: skip
        run.add_sent(answers)
        await asyncio.sleep(2.0)
        measured = await window.stop()
        conv = await run.converge(sample_docs=20)
        reports = await run.report()
        rss0, rss1 = measured["rss_start_kib"], measured["rss_end_kib"]
        return {
            "connect": connect,
            "window": measured,
            "rss_kib": rss1,
            "kib_per_doc": round((rss1 - rss0) / args.many_docs, 1),
            "convergence": conv,
            **problems(reports),
        }
    finally:
        await run.close()


SHAPES: dict[str, tuple[str, Callable[[Target, argparse.Namespace], Awaitable[dict[str, Any]]]]] = {
    "1": ("50 editors in one doc, 2 inserts/s each + cursor awareness on every edit",
          lambda t, a: editing(t, a, clients=50, editors=50, rate=2.0, awareness=True)),
    "2": ("review session: 200 in one doc, 20 of them editing at 2/s",
          lambda t, a: editing(t, a, clients=200, editors=20, rate=2.0, awareness=False)),
    "3": ("200 editors in one doc at 0.5/s each",
          lambda t, a: editing(t, a, clients=200, editors=200, rate=0.5, awareness=False)),
    "4": ("5,000 idle connections over 500 docs", idle_connections),
    "5": ("join storm: 500 clients open one new doc at once", lambda t, a: join_storm(t, a, clients=500)),
    "6": ("200 clients join a 0.7 MB document at once",
          lambda t, a: join_storm(t, a, clients=200, fill_chunks=12, fill_size=60_000)),
    "7": ("10 of 50 clients stop reading for 10 s while 40 others edit at 2/s (+ awareness, ~1 KB edits)",
          lambda t, a: editing(t, a, clients=50, editors=40, rate=2.0, awareness=True, stalled=10,
                               pad=a.stall_pad)),
    "docs1000": ("1,000 open documents on one node, one client each, 4 KB typed into each", many_docs),
}  # fmt: skip

TARGETS = {
    "1": "p99 ≤ 10 ms, server CPU ≤ 15 %",
    "2": "p50 ≤ 10 ms, p99 ≤ 50 ms",
    "3": "p99 ≤ 50 ms and ≤ node's p99",
    "4": "≤ 16 KiB/conn, connected ≤ 6 s, idle CPU ≤ 0.5 %, RSS after close ≤ start + 20 MiB",
    "5": "all synced, handshake p99 ≤ 500 ms",
    "6": "handshake p99 ≤ 1 s",
    "7": "server survives; others p99 ≤ 10 ms; ≤ 2 MiB growth per stalled client; cut off cleanly, recover",
    "docs1000": "server RSS ≤ 1 GB",
}


# -- table --------------------------------------------------------------------------------------------


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def row(shape: str, server: str, run_no: int, r: dict[str, Any]) -> list[str]:
    if "error" in r:
        return [server, str(run_no), "error", "", "", "", "", "", "", r["error"][:160]]
    w = r["window"]
    conv = r["convergence"]
    conv_txt = (
        "yes"
        if conv["converged"]
        else f"NO ({conv['disconnected_clients']} not connected, {conv['short_clients']} short, "
        f"{conv['diverged_docs']} docs diverged)"
    )
    gen = "+".join(f"{g:.0f}" for g in w["gen_cpu_pct"])
    db_cpu = "" if w["db_cpu_pct"] is None else f"{w['db_cpu_pct']}"
    rss = f"{mib(w['rss_end_kib'])} (Δ{(w['rss_end_kib'] - w['rss_start_kib']) / 1024:+.1f})"
    probs = f"reconnects {r['reconnects']}, closes {r['closes']}" if r["reconnects"] or r["closes"] else ""
    if shape in ("1", "2", "3", "7"):
        lat, every = r["latency"], r["all_receivers"]
        lat_txt = f"{lat['p50_ms']} / {lat['p95_ms']} / {lat['p99_ms']}"
        deliv = str(r["deliveries_per_s"])
        extra = (
            f"all-receivers p99 {every['p99_ms']} ms ({every['complete']}/{every['edits']} complete); "
            f"max {lat['max_ms']}"
        )
        if shape == "7":
            s = r["stall"]
            cut = f"cut off {s['cut_off']}/{s['stalled']} {s['close_codes']}"
            if s["cut_off"]:
                cut += f", resynced {s['recovered']} (≤ {s['recover_ms_max']} ms after the drop was seen)"
            extra = (f"{cut}; stalled caught up {s['catch_up_ms']} ms after reading again; "
                     f"RSS +{s['rss_growth_per_stalled_kib']} KiB/stalled; others cut {s['others_cut_off']}; "
                     + extra)  # fmt: skip
    else:
        h = r["connect"]["handshake"]
        lat_txt = f"hs {h['p50_ms']} / {h['p95_ms']} / {h['p99_ms']}"
        deliv = ""
        c = r["connect"]
        extra = f"{c['ok']}/{c['ok'] + c['failed']} synced in {c['wall_s']} s"
        if shape == "4":
            extra += (f"; {r['kib_per_conn']} KiB/conn; idle CPU {r['idle']['server_cpu_pct']} %; RSS "
                      f"{mib(r['rss_before_kib'])}→{mib(r['rss_connected_kib'])}→{mib(r['rss_after_close_kib'])} MiB "
                      f"({r['after_close_s']} s after close)")  # fmt: skip
        elif shape == "6":
            extra += (
                f"; doc {r['filled'].get('chars', 0) / 1e6:.2f} MB; RSS peak {mib(r['rss_peak_kib'])} MiB"
            )
        elif shape == "5":
            extra += f"; RSS peak {mib(r['rss_peak_kib'])} MiB"
        elif shape == "docs1000":
            extra += f"; RSS {mib(r['rss_kib'])} MiB, {r['kib_per_doc']} KiB/doc"
    return [server, str(run_no), lat_txt, deliv, f"{w['server_cpu_pct']}", db_cpu, rss, gen, conv_txt,
            "; ".join(x for x in (extra, probs) if x)]  # fmt: skip


HEAD = ["server", "run", "p50 / p95 / p99 ms", "deliv/s", "srv CPU %", "db CPU %", "RSS MiB", "gen CPU %",
        "converged", "notes"]  # fmt: skip


def print_table(shape: str, rows: list[list[str]]) -> None:
    print(f"\nshape {shape}: {SHAPES[shape][0]}  (target: {TARGETS[shape]})")
    table = [HEAD, *rows]
    widths = [max(len(r[k]) for r in table) for k in range(len(HEAD))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(HEAD, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    sys.stdout.flush()


# -- main ---------------------------------------------------------------------------------------------


async def run_all(stack: Stack | None, args: argparse.Namespace, logs: Path) -> int:
    api: httpx.AsyncClient | None = None
    project_id = ""
    if stack is not None:
        api = httpx.AsyncClient(base_url=stack.server.url, timeout=30,
                                limits=httpx.Limits(max_connections=20))  # fmt: skip
        answer = expect(
            await api.post("/api/v1/login", json={"login": LOGIN, "password": stack.password}), 200
        )
        api.headers[CSRF_HEADER] = answer.json()["csrf_token"]
        project_id = await create_project(api)
    servers = Servers(stack, api, project_id, logs)
    failed = 0
    try:
        for shape in args.shapes:
            rows: list[list[str]] = []
            results: list[dict[str, Any]] = []
            print(f"\n== shape {shape}: {SHAPES[shape][0]}  load {os.getloadavg()[0]:.2f}", flush=True)
            for run_no in range(1, args.runs + 1):
                order = list(args.servers) if run_no % 2 else list(reversed(args.servers))
                for name in order:
                    target = await servers.start(name, f"s{shape}-r{run_no}")
                    started = time.perf_counter()
                    try:
                        result = await SHAPES[shape][1](target, args)
                    except Exception as exc:  # one failed run is a row of the table, not the end of the bench
                        result = {"error": f"{type(exc).__name__}: {exc}"}
                    finally:
                        await asyncio.to_thread(target.stop)
                    result["elapsed_s"] = round(time.perf_counter() - started, 1)
                    if "error" in result or not result["convergence"]["converged"]:
                        failed += 1
                    results.append({"server": name, "run": run_no, **result})
                    rows.append(row(shape, name, run_no, result))
                    print(f"  {name} run {run_no}: {' | '.join(rows[-1][2:])}", flush=True)
            rows.sort(key=lambda r: (args.servers.index(r[0]), r[1]))
            print_table(shape, rows)
            print(json.dumps({"shape": shape, "results": results}, ensure_ascii=False), flush=True)
    finally:
        if api is not None:
            await api.aclose()
    return failed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_collab", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add(
        "--shapes",
        default=",".join(ALL_SHAPES),
        help=f"comma-separated, of {','.join(ALL_SHAPES)} (default all)",
    )
    add("--servers", default=",".join(SERVERS), help="comma-separated, of tongban,node,pycrdt (default all)")
    add("--runs", type=int, default=2, help="runs of each shape against each server (default 2)")
    add("--duration", type=float, default=15.0, help="measured seconds of editing per run (default 15)")
    add("--warmup", type=float, default=3.0, help="seconds of editing before measuring (default 3)")
    add("--stall-s", type=float, default=10.0, help="shape 7: how long clients stop reading (default 10)")
    add("--stall-pad", type=int, default=1000,
        help="shape 7: characters added to each edit (default 1000), so that the stalled sockets' kernel "
             "buffers fill within the stall and the servers hold (or drop) the rest")  # fmt: skip
    add("--procs", type=int, default=2, help="load generator processes (default 2)")
    add(
        "--connect-parallel",
        type=int,
        default=250,
        help="handshakes in flight per process (shapes 4, docs1000)",
    )
    add("--idle-docs", type=int, default=500)
    add("--idle-per-doc", type=int, default=10)
    add("--idle-s", type=float, default=10.0, help="shape 4: idle CPU window (default 10)")
    add("--after-close-s", type=float, default=5.0, help="shape 4: RSS this long after closing (default 5)")
    add("--storm-timeout-s", type=float, default=10.0, help="shapes 5, 6: handshake time limit (default 10)")
    add("--many-docs", type=int, default=1000)
    add("--many-chunks", type=int, default=4)
    add("--many-size", type=int, default=1000)
    add("--timeout-s", type=float, default=2400.0, help="limit of the whole run (default 2400)")
    args = parser.parse_args(argv)
    args.shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if bad := [s for s in args.shapes if s not in SHAPES] + [s for s in args.servers if s not in SERVERS]:
        parser.error(f"unknown: {bad}")
    return args


def check_references(args: argparse.Namespace) -> None:
    if "node" in args.servers and not NODE_SERVER.exists():
        print(f"installing the Node reference server (npm ci in {REF_DIR})", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=REF_DIR, check=True, timeout=300)
    if "pycrdt" in args.servers:
        try:
            import pycrdt.websocket  # noqa: F401
        except ImportError:
            sys.exit("pycrdt-websocket is missing: .venv/bin/pip install -e '.[bench]'")


def main(argv: Sequence[str] | None = None) -> int:
    raise_fd_limit()  # inherited by every server and client process started from here
    args = parse_args(argv)
    check_references(args)
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"bench_collab  {describe_machine()}\ncommand: python -m loadtest.bench_collab {shown}".rstrip())
    s = Settings()
    print(f"tongban node: TONGBAN_COLLAB_CLIENT_RATE={s.collab_client_rate} _BURST={s.collab_client_burst}, "
          f"WS_MAX_FRAME_BYTES={s.ws_max_frame_bytes}, COLLAB_MAX_UPDATE_BYTES={s.collab_max_update_bytes}, "
          f"WS_STALL_S={s.ws_stall_s} (defaults; the bench clients send ≤ 4 messages/s each)", flush=True)  # fmt: skip
    started = time.perf_counter()
    logs = Path(tempfile.mkdtemp(prefix="tongban-collab-refs-"))

    async def bounded(stack: Stack | None) -> int:
        async with asyncio.timeout(args.timeout_s):
            return await run_all(stack, args, logs)

    try:
        if "tongban" in args.servers:
            with running_stack("collab", with_worker=False) as stack:
                failed = asyncio.run(bounded(stack))
                count, examples = stack.log_problems()
            print(f"tongban logs: {count} warnings/errors {examples}")
        else:
            failed = asyncio.run(bounded(None))
        for log in sorted(logs.glob("*.log")):
            text = log.read_text(errors="replace").strip()
            if text and "running at" not in text:
                print(f"{log.name}: {text[-500:]}")
    finally:
        shutil.rmtree(logs, ignore_errors=True)
    print(
        f"elapsed {time.perf_counter() - started:.0f} s, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
