"""Websocket event burst: one project, 200 subscribers, task updates at 500/s; latency, loss and order.

    .venv/bin/python -m loadtest.bench_ws_burst [--subscribers 200] [--rate 500] [--duration-s 20]

Against its own server on 127.0.0.1 (`loadtest.stack`, no worker): the demo applicant registers one
project and dispatches it to DEPT-ZJW; `--subscribers` websockets (one `loadtest.wsclient` process
per `--client-procs`) subscribe to it; then the DEPT-ZJW reviewer PUTs its task at `--rate` requests
per second for `--duration-s` (open loop: request i is due at t0 + i/rate; `--http-callers`
keep-alive connections send them, so when the server falls behind the achieved rate is lower and is
reported), alternating `in_review` / `returned` with a distinct note each, so every request records
one `project.task_updated` event. Then it waits until every subscriber has the journal's last
sequence number (or `--drain-s`).

Reports: achieved request and event rate, HTTP latency, event latency at the subscribers (receipt −
the client-side send time of the request that made the event, matched through its note in the
journal; and receipt − the event's `at`), and per subscriber whether it saw every sequence number
from its first to the journal's last, once, in order (gaps, duplicates, coalescing snapshots after a
queue overflow, closes such as 4409 and the reconnections with `?since=` they caused), and whether
every acknowledged (200) update is in the journal. Prints a table and one JSON line; exit status 1
when any subscriber missed or reordered an event or an acknowledged update is missing.
Must not: run unbounded (`--timeout-s`), talk to anything but 127.0.0.1, or leave anything behind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
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
from loadtest.bench_ws_fanout import APPROVAL, DEPT
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
from tests.support.clients import cookie_header

REVIEWER = "zhujian"  # DEPT-ZJW reviewer: may update its own department's task on any project
JOURNAL = """
    SELECT seq, type, payload->>'note' AS note, extract(epoch FROM at)::float8 AS at FROM actor_event
    WHERE actor_kind = 'project' AND actor_id = $1 ORDER BY seq"""


async def journal(database_url: str, project_id: str) -> list[Any]:
    conn = await db.connect(database_url)
    try:
        return list(await conn.fetch(JOURNAL, uuid.UUID(project_id)))
    finally:
        await conn.close()


async def produce(
    callers: list[httpx.AsyncClient], path: str, rate: float, duration_s: float, tag: str
) -> dict[str, Any]:
    """Open-loop PUTs at `rate`/s for `duration_s`; returns send times by note and the outcomes."""
    total = int(rate * duration_s)
    sent: dict[str, float] = {}
    acked: list[str] = []
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    errors: list[str] = []
    next_i = 0
    late = 0
    t0 = time.perf_counter()
    wall0 = time.time()

    async def caller(client: httpx.AsyncClient) -> None:
        nonlocal next_i, late
        while next_i < total:
            i, next_i = next_i, next_i + 1
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                late += 1
            note = f"{tag}-{i}"
            body = {"status": "in_review" if i % 2 == 0 else "returned", "note": note}
            sent[note] = time.time()
            started = time.perf_counter()
            try:
                response = await client.put(path, json=body)
                statuses[str(response.status_code)] += 1
                if response.status_code == 200:
                    acked.append(note)
                    latencies.append(time.perf_counter() - started)
                elif len(errors) < 3:
                    errors.append(f"{response.status_code}: {response.text[:150]}")
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
                if len(errors) < 3:
                    errors.append(f"{type(exc).__name__}: {exc}"[:150])

    await asyncio.gather(*(caller(c) for c in callers))
    wall = time.perf_counter() - t0
    return {
        "requests": total, "wall_s": round(wall, 2), "per_s": round(total / wall, 1),
        "late_sends": late, "statuses": dict(statuses), "first_errors": errors,
        "http_p50_ms": round(percentile_ms(latencies, 50), 1), "http_p99_ms": round(percentile_ms(latencies, 99), 1),
        "sent": sent, "acked": acked, "started_at": wall0,
    }  # fmt: skip


async def run(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    pid = stack.server.proc.pid
    url = stack.server.url
    out: dict[str, Any] = {}
    procs: list[SubscriberProcess] = []
    async with (
        http_callers(url, 1, (LOGIN, stack.password)) as owner,
        http_callers(url, args.http_callers, (REVIEWER, stack.password)) as reviewers,
    ):
        try:
            project_id = await create_project(owner[0])
            expect(await owner[0].post(f"/api/v1/projects/{project_id}/approval", json=APPROVAL), 200)
            ws_path = f"/ws/projects/{project_id}"
            headers = cookie_header(owner[0])
            for k in range(args.client_procs):
                n = args.subscribers // args.client_procs + (k < args.subscribers % args.client_procs)
                config = {
                    "headers": headers, "parallel": 50, "deadline_s": args.timeout_s,
                    "targets": [{"port": stack.server.port, "path": ws_path} for _ in range(n)],
                }  # fmt: skip
                procs.append(await SubscriberProcess.start(config))
            answers = await asyncio.gather(*(p.command({"cmd": "connect"}, 120) for p in procs))
            out["connect"] = {
                "ok": sum(a["ok"] for a in answers),
                "errors": sum(a["errors"] for a in answers),
            }
            print(f"subscribed {out['connect']['ok']}/{args.subscribers}", flush=True)
            for r in reviewers:  # open every keep-alive connection before the clock starts
                expect(await r.get(f"/api/v1/projects/{project_id}"), 200)
            await asyncio.sleep(1.0)

            cpu0 = proc_cpu_s(pid)
            ccpu0 = [proc_cpu_s(p.pid) for p in procs]
            t0 = time.perf_counter()
            path = f"/api/v1/projects/{project_id}/tasks/{DEPT}"
            produced = await produce(reviewers, path, args.rate, args.duration_s, "burst")
            rows = await journal(stack.database_url, project_id)
            last_seq = rows[-1]["seq"]
            waits = await asyncio.gather(
                *(p.command({"cmd": "wait", "until": {ws_path: last_seq}, "timeout_s": args.drain_s},
                            args.drain_s + 30) for p in procs)
            )  # fmt: skip
            busy_s = time.perf_counter() - t0
            cpu = proc_cpu_s(pid) - cpu0
            ccpu = [round(proc_cpu_s(p.pid) - c, 1) for p, c in zip(procs, ccpu0, strict=True)]
            rows = await journal(stack.database_url, project_id)
            sent = produced.pop("sent")
            acked = produced.pop("acked")
            times = {
                ws_path: {str(r["seq"]): [sent.get(r["note"]), r["at"]] for r in rows if r["note"] in sent}
            }
            reports = await asyncio.gather(
                *(p.command({"cmd": "report", "times": times}, 120) for p in procs)
            )
            notes = {r["note"] for r in rows}
            burst_rows = [r for r in rows if r["note"] in sent]
            seqs = [r["seq"] for r in rows]
            out["produce"] = produced
            out["journal"] = {
                "events": len(burst_rows), "last_seq": last_seq,
                "contiguous": seqs == list(range(1, len(seqs) + 1)),
                "acked_missing": len([n for n in acked if n not in notes]), "acked": len(acked),
                "event_per_s": round(len(burst_rows) / (burst_rows[-1]["at"] - burst_rows[0]["at"]), 1)
                if len(burst_rows) > 1 else None,
            }  # fmt: skip
            first_burst = burst_rows[0]["seq"] if burst_rows else last_seq
            out["subscribers"] = {
                "sockets": args.subscribers, "behind_at_end": sum(w["behind"] for w in waits),
                "drain_wait_s": max(w["waited_s"] for w in waits),
                "complete_in_order": sum(r["complete_in_order"] for r in reports),
                "frames": sum(r["frames"] for r in reports),
                "expected_frames": args.subscribers * len(burst_rows),
                "gaps": sum(r["gaps"] for r in reports), "backwards": sum(r["backwards"] for r in reports),
                "resyncs": sum(r["resyncs"] for r in reports),
                "resync_skipped": sum(r["resync_skipped"] for r in reports),
                "reconnects": sum(r["reconnects"] for r in reports),
                "closes": dict(sum((Counter(r["closes"]) for r in reports), Counter())),
                "latency_from_send": hist_summary(merge_hist(reports, "hist_send")),
                "latency_from_at": hist_summary(merge_hist(reports, "hist_at")),
                "examples": [e for r in reports for e in r["examples"]][:3],
                "first_seq_max": first_burst,
            }  # fmt: skip
            out["cpu"] = {"window_s": round(busy_s, 1), "server_cores": round(cpu / busy_s, 2),
                          "client_cpu_s": ccpu, "server_rss_kib": proc_kib(pid)}  # fmt: skip
            await asyncio.gather(*(p.command({"cmd": "close"}, 60) for p in procs))
        finally:
            await asyncio.gather(*(p.stop() for p in procs), return_exceptions=True)
    return out


def print_table(out: dict[str, Any], args: argparse.Namespace) -> None:
    p, j, s = out["produce"], out["journal"], out["subscribers"]
    ls, la = s["latency_from_send"], s["latency_from_at"]
    rows = [
        ("updates sent (target rate)", f"{p['requests']} in {p['wall_s']} s = {p['per_s']}/s",
         f"{args.rate:.0f}/s", f"statuses {p['statuses']}, HTTP p50/p99 {p['http_p50_ms']}/{p['http_p99_ms']} ms"),
        ("events recorded", f"{j['events']} ({j['event_per_s']}/s)", "", f"journal contiguous {j['contiguous']}"),
        ("acknowledged updates missing from journal", f"{j['acked_missing']} of {j['acked']}", "0", ""),
        ("event → subscriber p50/p99 (from send)", f"{ls['p50_ms']} / {ls['p99_ms']} ms", "p99 ≤ 500 ms",
         f"max {ls['max_ms']} ms, n={ls['n']}"),
        ("event → subscriber p50/p99 (from `at`)", f"{la['p50_ms']} / {la['p99_ms']} ms", "", f"max {la['max_ms']} ms"),
        ("subscribers with every seq, once, in order", f"{s['complete_in_order']}/{s['sockets']}", "all",
         f"frames {s['frames']}/{s['expected_frames']}, gaps {s['gaps']}, backwards {s['backwards']}, "
         f"coalesced {s['resyncs']}×/{s['resync_skipped']} seqs, closes {s['closes']}, "
         f"reconnects {s['reconnects']}, behind at end {s['behind_at_end']}"),
        ("server CPU during burst + drain", f"{out['cpu']['server_cores']} cores", "",
         f"over {out['cpu']['window_s']} s; subscriber processes {out['cpu']['client_cpu_s']} s CPU"),
    ]  # fmt: skip
    print_rows(rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_ws_burst", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--subscribers", type=int, default=200)
    add("--rate", type=float, default=500.0, help="task updates per second (default 500)")
    add("--duration-s", type=float, default=20.0)
    add("--http-callers", type=int, default=16, help="concurrent keep-alive HTTP connections (default 16)")
    add("--client-procs", type=int, default=1, help="subscriber processes (default 1)")
    add("--drain-s", type=float, default=60.0, help="longest wait for subscribers to catch up")
    add("--timeout-s", type=float, default=300.0, help="limit of the whole run (default 300)")
    args = parser.parse_args(argv)
    if min(args.subscribers, args.rate, args.duration_s, args.http_callers, args.client_procs) <= 0:
        parser.error("counts and rates must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    raise_fd_limit()
    args = parse_args(argv)
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    print(
        f"bench_ws_burst  {describe_machine()}\ncommand: python -m loadtest.bench_ws_burst {shown}".rstrip()
    )
    started = time.perf_counter()
    with running_stack("wsburst", with_worker=False) as stack:

        async def bounded() -> dict[str, Any]:
            async with asyncio.timeout(args.timeout_s):
                return await run(stack, args)

        out = asyncio.run(bounded())
        out["log_problems"], out["log_examples"] = stack.log_problems()
    out["elapsed_s"] = round(time.perf_counter() - started, 1)
    out["load"] = os.getloadavg()
    print_table(out, args)
    print(json.dumps(out, ensure_ascii=False))
    s, j = out["subscribers"], out["journal"]
    bad = s["complete_in_order"] != args.subscribers or s["behind_at_end"] or j["acked_missing"]
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
