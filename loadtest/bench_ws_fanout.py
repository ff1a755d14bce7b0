"""Websocket fan-out at scale: 10,000 authenticated subscribers on 1,000 projects, one server process.

    .venv/bin/python -m loadtest.bench_ws_fanout [--projects 1000] [--per-project 10] [--client-procs 2]

Against its own server on 127.0.0.1 (`loadtest.stack`, no worker, so no archive events interfere):
  1. logs in once as the demo applicant and registers `--projects` projects through the API;
  2. opens `--per-project` websockets on each (all with the one session cookie) from `--client-procs`
     subscriber processes (`loadtest.wsclient`): wall time for all of them, server RSS before and
     after → KiB per connection;
  3. idle: server CPU % over `--idle-s` seconds (≥ 20; the default 35 s covers one whole heartbeat
     round of 30 s, so every socket is pinged and answers once inside the window);
  4. one event on every project, as fast as `--dispatch-concurrency` callers can send them: the
     approval dispatch (POST /api/v1/projects/{id}/approval → `project.approval_started`); latency at
     every subscriber = receipt − the client-side send time of the triggering request, and receipt −
     the event's `at` (its transaction's time in PostgreSQL, same machine clock);
  5. disconnects all and reads the server RSS again after 10 s.
Prints a table and one JSON summary line. Exit status 1 when a socket failed to connect, missed its
event, or saw anything but its snapshot then its event.
Must not: run unbounded (`--timeout-s` for the whole run, bounded waits), talk to anything but
127.0.0.1, or leave processes, its database or Redis keys behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx

from loadtest.bench_skeleton import (
    create_project,
    describe_machine,
    expect,
    http_callers,
    percentile_ms,
    print_rows,
)
from loadtest.children import raise_fd_limit
from loadtest.stack import LOGIN, Stack, running_stack
from loadtest.wsclient import (
    SubscriberProcess,
    hist_summary,
    merge_hist,
    proc_cpu_s,
    proc_kib,
)
from server import db
from server.seed import stable_id
from tests.support.clients import cookie_header

DEPT = stable_id("org", "DEPT-ZJW")
APPROVAL = {"tasks": [{"dept_org_id": str(DEPT), "item": "施工许可", "limit_workdays": 20}]}
BASELINE_S = 10.0
EVENT_AT = """
    SELECT actor_id, seq, extract(epoch FROM at)::float8 AS at FROM actor_event
    WHERE actor_kind = 'project' AND type = 'project.approval_started'"""


async def closed_loop(total: int, concurrency: int, op: Any) -> tuple[float, list[str]]:
    """`op(i)` for i in range(total) by `concurrency` callers; returns wall time and errors."""
    errors: list[str] = []
    next_i = 0

    async def caller(k: int) -> None:
        nonlocal next_i
        while next_i < total:
            i, next_i = next_i, next_i + 1
            try:
                await op(k, i)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    started = time.perf_counter()
    await asyncio.gather(*(caller(k) for k in range(min(concurrency, total))))
    return time.perf_counter() - started, errors


class LagProbe:
    """GET /healthz every 100 ms on its own connection: how long the server's event loop stalls in
    each phase (an answer that takes 1.5 s means the loop did nothing else for about that long).
    Every second only while idle CPU is measured: ten requests a second cost ~1 % of a core."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.samples: list[tuple[str, float]] = []
        self.phase = "setup"
        self.interval_s = 0.1
        self.task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            started = time.perf_counter()
            phase = self.phase
            try:
                await self.client.get("/healthz")
                self.samples.append((phase, time.perf_counter() - started))
            except httpx.HTTPError:
                self.samples.append((phase, float("inf")))
            await asyncio.sleep(max(0.0, self.interval_s - (time.perf_counter() - started)))

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> dict[str, dict[str, float]]:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.client.aclose()
        phases: dict[str, list[float]] = {}
        for phase, seconds in self.samples:
            phases.setdefault(phase, []).append(seconds)
        return {
            phase: {"n": len(v), "p99_ms": round(percentile_ms(v, 99), 1), "max_ms": round(max(v) * 1000, 1)}
            for phase, v in phases.items()
        }


async def run(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    probe = LagProbe(stack.server.url)
    probe.start()
    try:
        out = await run_phases(stack, args, probe)
    finally:
        lag = await probe.stop()
    out["healthz_lag"] = lag
    return out


async def run_phases(stack: Stack, args: argparse.Namespace, probe: LagProbe) -> dict[str, Any]:
    pid = stack.server.proc.pid
    out: dict[str, Any] = {"server_rss_start_kib": proc_kib(pid)}
    procs: list[SubscriberProcess] = []
    async with http_callers(stack.server.url, args.dispatch_concurrency, (LOGIN, stack.password)) as users:
        try:
            # 1. projects
            ids: list[str] = [""] * args.projects

            async def make(k: int, i: int) -> None:
                ids[i] = await create_project(users[k])

            probe.phase = "create"
            wall, errors = await closed_loop(args.projects, args.dispatch_concurrency, make)
            if errors:
                raise RuntimeError(f"{len(errors)} project registrations failed: {errors[:3]}")
            out["create"] = {
                "n": args.projects,
                "wall_s": round(wall, 2),
                "per_s": round(args.projects / wall),
            }
            print(f"created {args.projects} projects in {wall:.1f}s", flush=True)

            # 2. connect
            headers = cookie_header(users[0])
            port = stack.server.port
            order = [ids[p] for _ in range(args.per_project) for p in range(args.projects)]
            shares = [order[k :: args.client_procs] for k in range(args.client_procs)]
            configs = [
                {
                    "headers": headers,
                    "parallel": args.connect_parallel,
                    "deadline_s": args.timeout_s,
                    "targets": [{"port": port, "path": f"/ws/projects/{pid_}"} for pid_ in share],
                }
                for share in shares
            ]
            for config in configs:
                procs.append(await SubscriberProcess.start(config))
            probe.phase, probe.interval_s = "baseline", 1.0
            cpu0, t0 = proc_cpu_s(pid), time.perf_counter()
            await asyncio.sleep(BASELINE_S)  # the server's own idle cost: no sockets, projects in memory
            out["idle_no_sockets_cpu_pct"] = round(
                100 * (proc_cpu_s(pid) - cpu0) / (time.perf_counter() - t0), 2
            )
            rss_before = proc_kib(pid)
            cpu0, t0 = proc_cpu_s(pid), time.perf_counter()
            probe.phase, probe.interval_s = "connect", 0.1
            answers = await asyncio.gather(*(p.command({"cmd": "connect"}, args.timeout_s) for p in procs))
            connect_wall = time.perf_counter() - t0
            connect_cpu = proc_cpu_s(pid) - cpu0
            ok = sum(a["ok"] for a in answers)
            out["connect"] = {
                "sockets": len(order), "ok": ok, "errors": sum(a["errors"] for a in answers),
                "first_errors": [e for a in answers for e in a["first_errors"]][:3],
                "wall_s": round(connect_wall, 2), "server_cpu_s": round(connect_cpu, 2),
                "client_cpu_s": [a["cpu_s"] for a in answers],
            }  # fmt: skip
            print(f"connected {ok}/{len(order)} in {connect_wall:.1f}s", flush=True)
            await asyncio.sleep(2.0)
            rss_connected = proc_kib(pid)
            out["rss"] = {
                "before_connect_kib": rss_before,
                "connected_kib": rss_connected,
                "kib_per_conn": round((rss_connected - rss_before) / max(1, ok), 2),
                "client_rss_kib": [proc_kib(p.pid) for p in procs],
            }

            # 3. idle
            probe.phase, probe.interval_s = "idle", 1.0
            cpu0, t0 = proc_cpu_s(pid), time.perf_counter()
            ccpu0 = [proc_cpu_s(p.pid) for p in procs]
            await asyncio.sleep(args.idle_s)
            idle_wall = time.perf_counter() - t0
            out["idle"] = {
                "window_s": round(idle_wall, 1),
                "server_cpu_pct": round(100 * (proc_cpu_s(pid) - cpu0) / idle_wall, 2),
                "client_cpu_pct": [
                    round(100 * (proc_cpu_s(p.pid) - c) / idle_wall, 2)
                    for p, c in zip(procs, ccpu0, strict=True)
                ],
                "rss_end_kib": proc_kib(pid),
            }
            print(f"idle: server {out['idle']['server_cpu_pct']}% CPU over {idle_wall:.0f}s", flush=True)

            # 4. one event per project
            sent: dict[str, float] = {}
            seqs: dict[str, int] = {}

            async def dispatch(k: int, i: int) -> None:
                path = f"/api/v1/projects/{ids[i]}/approval"
                sent[ids[i]] = time.time()
                answer = expect(await users[k].post(path, json=APPROVAL), 200).json()
                seqs[ids[i]] = int(answer["seq"])

            cpu0 = proc_cpu_s(pid)
            probe.phase, probe.interval_s = "dispatch", 0.1
            wall, errors = await closed_loop(args.projects, args.dispatch_concurrency, dispatch)
            until = {f"/ws/projects/{p}": s for p, s in seqs.items()}
            waits = await asyncio.gather(
                *(p.command({"cmd": "wait", "until": until, "timeout_s": 60}, 90) for p in procs)
            )
            delivered_wall = time.perf_counter() - t0
            conn = await db.connect(stack.database_url)
            try:
                rows = await conn.fetch(EVENT_AT)
            finally:
                await conn.close()
            times = {
                f"/ws/projects/{r['actor_id']}": {str(r["seq"]): [sent.get(str(r["actor_id"])), r["at"]]}
                for r in rows
                if str(r["actor_id"]) in sent
            }
            reports = await asyncio.gather(
                *(p.command({"cmd": "report", "times": times}, 120) for p in procs)
            )
            out["event"] = {
                "dispatched": len(seqs), "dispatch_errors": len(errors), "first_errors": errors[:3],
                "dispatch_wall_s": round(wall, 2), "dispatch_per_s": round(len(seqs) / wall),
                "server_cpu_s": round(proc_cpu_s(pid) - cpu0, 2),
                "sockets_behind": sum(w["behind"] for w in waits),
                "received": sum(r["frames"] for r in reports),
                "latency_from_send": hist_summary(merge_hist(reports, "hist_send")),
                "latency_from_at": hist_summary(merge_hist(reports, "hist_at")),
                "complete_in_order": sum(r["complete_in_order"] for r in reports),
                "gaps": sum(r["gaps"] for r in reports), "backwards": sum(r["backwards"] for r in reports),
                "resyncs": sum(r["resyncs"] for r in reports), "reconnects": sum(r["reconnects"] for r in reports),
                "closes": [r["closes"] for r in reports], "pongs": sum(r["pongs"] for r in reports),
                "examples": [e for r in reports for e in r["examples"]][:3],
            }  # fmt: skip
            del delivered_wall
            print(f"event: {json.dumps(out['event']['latency_from_send'])}", flush=True)

            # 5. disconnect
            probe.phase = "disconnect"
            closes = await asyncio.gather(*(p.command({"cmd": "close"}, 60) for p in procs))
            out["disconnect"] = {"closed": sum(c["closed"] for c in closes),
                                 "wall_s": max(c["wall_s"] for c in closes)}  # fmt: skip
            await asyncio.sleep(10.0)
            out["rss"]["after_disconnect_10s_kib"] = proc_kib(pid)
            out["rss"]["hwm_kib"] = proc_kib(pid, "VmHWM")
            await asyncio.gather(*(p.stop() for p in procs))
            # 6. more rounds of connect + disconnect: does the memory come back into use (allocator
            # high-water mark) or keep growing (something per connection outlives it)?
            out["more_rounds"] = []
            probe.phase = "more_rounds"
            for _ in range(args.rounds - 1):
                procs = [await SubscriberProcess.start(c) for c in configs]
                t0 = time.perf_counter()
                answers = await asyncio.gather(
                    *(p.command({"cmd": "connect"}, args.timeout_s) for p in procs)
                )
                wall_s = round(time.perf_counter() - t0, 2)
                await asyncio.sleep(2.0)
                connected = proc_kib(pid)
                await asyncio.gather(*(p.command({"cmd": "close"}, 60) for p in procs))
                await asyncio.gather(*(p.stop() for p in procs))
                await asyncio.sleep(10.0)
                round_ = {"ok": sum(a["ok"] for a in answers), "connect_wall_s": wall_s,
                          "connected_kib": connected, "after_disconnect_10s_kib": proc_kib(pid)}  # fmt: skip
                out["more_rounds"].append(round_)
                print(f"round: {json.dumps(round_)}", flush=True)
        finally:
            await asyncio.gather(*(p.stop() for p in procs), return_exceptions=True)
    return out


def print_table(out: dict[str, Any], args: argparse.Namespace) -> None:
    c, r, i, e = out["connect"], out["rss"], out["idle"], out["event"]
    ls, la = e["latency_from_send"], e["latency_from_at"]
    rows = [
        ("connect all sockets", f"{c['ok']}/{c['sockets']} in {c['wall_s']} s", "≤ 15 s",
         f"server CPU {c['server_cpu_s']} s, errors {c['errors']}"),
        ("RSS per connection", f"{r['kib_per_conn']} KiB", "≤ 25 KiB",
         f"{r['before_connect_kib'] // 1024} → {r['connected_kib'] // 1024} MiB"),
        ("idle server CPU", f"{i['server_cpu_pct']} %", "≤ 1 %",
         f"over {i['window_s']} s, heartbeats included; {out['idle_no_sockets_cpu_pct']} % with no sockets"),
        ("event → all subscribers, p50/p99 (from send)", f"{ls['p50_ms']} / {ls['p99_ms']} ms", "p99 ≤ 500 ms",
         f"max {ls['max_ms']} ms, n={ls['n']}, {e['dispatch_per_s']} dispatches/s at c={args.dispatch_concurrency}"),
        ("event → all subscribers, p50/p99 (from `at`)", f"{la['p50_ms']} / {la['p99_ms']} ms", "",
         f"max {la['max_ms']} ms"),
        ("sockets with snapshot + event, in order", f"{e['complete_in_order']}/{c['sockets']}", "all",
         f"gaps {e['gaps']}, behind {e['sockets_behind']}, closes {e['closes']}"),
        ("RSS 10 s after disconnecting all", f"{r['after_disconnect_10s_kib'] // 1024} MiB", "near start",
         f"start {out['server_rss_start_kib'] // 1024} MiB, before connect {r['before_connect_kib'] // 1024} MiB,"
         f" peak {r['hwm_kib'] // 1024} MiB"),
    ]  # fmt: skip
    print_rows(rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_ws_fanout", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--projects", type=int, default=1000)
    add("--per-project", type=int, default=10, help="websockets per project (default 10)")
    add("--client-procs", type=int, default=2, help="subscriber processes (default 2)")
    add("--connect-parallel", type=int, default=250, help="handshakes in flight per subscriber process")
    add("--dispatch-concurrency", type=int, default=20, help="HTTP callers registering and dispatching")
    add("--idle-s", type=float, default=35.0, help="idle CPU window, seconds (default 35, at least 20)")
    add("--timeout-s", type=float, default=600.0, help="limit of the whole run (default 600)")
    add("--rounds", type=int, default=1, help="connect + disconnect rounds; 2+ tells growth from reuse")
    add(
        "--heartbeat-s",
        type=float,
        default=None,
        help="server's TONGBAN_WS_HEARTBEAT_S (idle timeout 3x+5); default: the server's own (30 s)",
    )
    args = parser.parse_args(argv)
    if args.idle_s < 20 or min(args.projects, args.per_project, args.client_procs) < 1:
        parser.error("--idle-s must be ≥ 20 and counts positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    raise_fd_limit()
    args = parse_args(argv)
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    print(
        f"bench_ws_fanout  {describe_machine()}\ncommand: python -m loadtest.bench_ws_fanout {shown}".rstrip()
    )
    started = time.perf_counter()
    extra_env = {}
    if args.heartbeat_s is not None:
        extra_env = {
            "TONGBAN_WS_HEARTBEAT_S": str(args.heartbeat_s),
            "TONGBAN_WS_IDLE_TIMEOUT_S": str(3 * args.heartbeat_s + 5),
        }
    with running_stack("wsfan", with_worker=False, extra_env=extra_env) as stack:

        async def bounded() -> dict[str, Any]:
            async with asyncio.timeout(args.timeout_s):
                return await run(stack, args)

        out = asyncio.run(bounded())
        problems, examples = stack.log_problems()
    out["log_problems"] = problems
    out["log_examples"] = examples
    out["elapsed_s"] = round(time.perf_counter() - started, 1)
    out["load"] = os.getloadavg()
    print_table(out, args)
    print("GET /healthz every 100 ms, by phase (event-loop stalls):", json.dumps(out["healthz_lag"]))
    print(json.dumps(out, ensure_ascii=False))
    sockets = args.projects * args.per_project
    event = out["event"]
    bad = out["connect"]["ok"] != sockets or event["complete_in_order"] != sockets or event["sockets_behind"]
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
