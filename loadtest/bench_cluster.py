"""Three server nodes sharing PostgreSQL and Redis: cross-node event latency, and failover when the
node running a project's actor is killed.

    .venv/bin/python -m loadtest.bench_cluster [--events 600] [--rate 50] [--after-kill-s 15]

Against its own stack on 127.0.0.1 (`loadtest.stack`, no worker): nodes lt-a, lt-b and lt-c are
`tongban serve` processes with those TONGBAN_NODE_IDs on three ports. The demo applicant registers
one project through lt-b (so lt-b claims its actor) and dispatches it to DEPT-ZJW. Two subscriber
processes (`loadtest.wsclient`) open `?since=0` on lt-c and on lt-b; each reopens with
`?since=<last seq>` on another node if its node dies.
  1. A→C: the DEPT-ZJW reviewer PUTs its task through lt-a, `--events` times at `--rate`/s; each
     update is forwarded lt-a → lt-b (owner) and its event published lt-b → lt-c. Latency = receipt
     at the lt-c subscriber − the client-side send time of the request (matched through the
     event's note in the journal), and receipt − the event's `at`.
  2. failover: the owner is read from Redis (`{prefix}owner:project:{id}` = "<node> <token>"); PUTs
     go to a surviving node every 100 ms (open loop, each with its own 20 s limit); after
     `--before-kill-s` the owner is killed with SIGKILL `--kill-delay-ms` after a request was sent
     (so one is in flight); sending goes on for `--after-kill-s`.
     Recovery = kill → the first 200 answer after it (and → Redis naming the new owner).
  3. loss: the journal must hold seq 1..N without a gap; both subscribers (the one on lt-b after its
     reconnection) must have seen every seq 1..N once, in order; every acknowledged (200) update
     must be in the journal.
Prints a table and one JSON line; exit status 1 when an event was lost or reordered, an
acknowledged update is missing, or the actor did not answer again within `--after-kill-s`.
Must not: run unbounded (`--timeout-s`), talk to anything but 127.0.0.1, kill any process but the
node it started, or leave processes, its database or Redis keys behind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx
from redis.asyncio import Redis

from loadtest.bench_skeleton import create_project, describe_machine, expect, percentile_ms, print_rows
from loadtest.bench_ws_burst import REVIEWER, journal
from loadtest.bench_ws_fanout import APPROVAL, DEPT
from loadtest.children import raise_fd_limit
from loadtest.stack import LOGIN, Stack, running_stack
from loadtest.wsclient import SubscriberProcess, hist_summary, merge_hist
from tests.support.clients import cookie_header
from tests.support.processes import ServerChild

NODES = ("lt-a", "lt-b", "lt-c")
CSRF_HEADER = "X-CSRF-Token"


async def login(base_url: str, name: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    answer = expect(await client.post("/api/v1/login", json={"login": name, "password": password}), 200)
    client.headers[CSRF_HEADER] = answer.json()["csrf_token"]
    return client


def same_session(client: httpx.AsyncClient, base_url: str, connections: int = 1) -> httpx.AsyncClient:
    """Another client in `client`'s session, on another node."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=base_url, timeout=20, limits=limits, cookies=client.cookies, headers=client.headers
    )


class Sender:
    """PUTs of the reviewer's task; every request's note, send time, end time and outcome."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        self.count = 0

    async def put(self, client: httpx.AsyncClient, tag: str) -> dict[str, Any]:
        i = self.count
        self.count += 1
        note = f"{tag}-{i}"
        body = {"status": "in_review" if i % 2 == 0 else "returned", "note": note}
        record: dict[str, Any] = {"note": note, "node": str(client.base_url), "sent": time.time()}
        self.records.append(record)
        try:
            response = await client.put(self.path, json=body)
            record["status"] = str(response.status_code)
        except httpx.HTTPError as exc:
            record["status"] = type(exc).__name__
        record["done"] = time.time()
        return record


async def paced(sender: Sender, clients: list[httpx.AsyncClient], count: int, rate: float, tag: str) -> None:
    """`count` PUTs at `rate`/s, open loop, spread over `clients` (one request in flight each)."""
    t0 = time.perf_counter()
    next_i = 0

    async def caller(client: httpx.AsyncClient) -> None:
        nonlocal next_i
        while next_i < count:
            i, next_i = next_i, next_i + 1
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await sender.put(client, tag)

    await asyncio.gather(*(caller(c) for c in clients))


async def owner_of(redis: Redis, prefix: str, project_id: str) -> str | None:
    value = await redis.get(f"{prefix}owner:project:{project_id}")
    return value.decode().split()[0] if value else None


def seq_check(seqs: list[int], last: int) -> dict[str, Any]:
    expected = list(range(1, last + 1))
    return {
        "frames": len(seqs), "complete_1_to_n": seqs == expected,
        "missing": len(set(expected) - set(seqs)), "duplicates": len(seqs) - len(set(seqs)),
        "in_order": seqs == sorted(seqs),
    }  # fmt: skip


async def run(stack: Stack, nodes: dict[str, ServerChild], args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    a, b = nodes["lt-a"], nodes["lt-b"]
    redis = Redis.from_url(stack.redis_url)
    clients: list[httpx.AsyncClient] = []
    procs: dict[str, SubscriberProcess] = {}
    try:
        owner = await login(a.url, LOGIN, stack.password)
        reviewer = await login(a.url, REVIEWER, stack.password)
        clients += [owner, reviewer]
        owner_b = same_session(owner, b.url)
        clients.append(owner_b)
        project_id = await create_project(owner_b)
        expect(await owner_b.post(f"/api/v1/projects/{project_id}/approval", json=APPROVAL), 200)
        first_owner = await owner_of(redis, stack.redis_prefix, project_id)
        out["project"] = {"id": project_id, "owner_after_create": first_owner}
        ws_path = f"/ws/projects/{project_id}"
        headers = cookie_header(owner)
        ports = {name: node.port for name, node in nodes.items()}
        for name in ("lt-c", "lt-b"):
            fallback = [p for n, p in ports.items() if n != name]
            config = {
                "headers": headers, "deadline_s": args.timeout_s,
                "targets": [{"port": ports[name], "path": ws_path, "since": 0, "fallback": fallback}],
            }  # fmt: skip
            procs[name] = await SubscriberProcess.start(config)
            answer = await procs[name].command({"cmd": "connect"}, 60)
            if answer["ok"] != 1:
                raise RuntimeError(f"subscriber on {name} did not connect: {answer}")
        path = f"/api/v1/projects/{project_id}/tasks/{DEPT}"
        sender = Sender(path)
        via_a = [same_session(reviewer, a.url) for _ in range(args.http_callers)]
        clients += via_a
        for client in via_a:
            expect(await client.get(f"/api/v1/projects/{project_id}"), 200)

        # 1. A → C latency
        print(f"phase 1: {args.events} updates through lt-a at {args.rate}/s", flush=True)
        t0 = time.perf_counter()
        await paced(sender, via_a, args.events, args.rate, "xnode")
        phase1_wall = time.perf_counter() - t0
        rows = await journal(stack.database_url, project_id)
        until = {ws_path: rows[-1]["seq"]}
        for proc in procs.values():
            await proc.command({"cmd": "wait", "until": until, "timeout_s": 30}, 60)
        sent = {r["note"]: r["sent"] for r in sender.records}
        times = {ws_path: {str(r["seq"]): [sent.get(r["note"]), r["at"]] for r in rows if r["note"] in sent}}
        phase1 = {
            name: await proc.command({"cmd": "report", "times": times}, 60) for name, proc in procs.items()
        }
        http_ms = [(r["done"] - r["sent"]) for r in sender.records if r["status"] == "200"]
        out["phase1"] = {
            "updates": len(sender.records), "wall_s": round(phase1_wall, 1),
            "statuses": dict(Counter(r["status"] for r in sender.records)),
            "http_p50_ms": round(percentile_ms(http_ms, 50), 1), "http_p99_ms": round(percentile_ms(http_ms, 99), 1),
            **{f"{name}_from_send": hist_summary(merge_hist([rep], "hist_send")) for name, rep in phase1.items()},
            **{f"{name}_from_at": hist_summary(merge_hist([rep], "hist_at")) for name, rep in phase1.items()},
        }  # fmt: skip
        print(f"phase 1: lt-c {json.dumps(out['phase1']['lt-c_from_send'])}", flush=True)

        # 2. failover
        victim = await owner_of(redis, stack.redis_prefix, project_id)
        if victim not in nodes:
            raise RuntimeError(f"the project's owner is {victim!r}, not one of our nodes")
        survivor = "lt-a" if victim != "lt-a" else "lt-b"
        pool = same_session(reviewer, nodes[survivor].url, connections=400)
        clients.append(pool)
        expect(await pool.get(f"/api/v1/projects/{project_id}"), 200)
        print(f"phase 2: owner {victim}; requests to {survivor} every 100 ms; kill after {args.before_kill_s}s",
              flush=True)  # fmt: skip
        phase2_start = len(sender.records)
        tasks: list[asyncio.Task[dict[str, Any]]] = []
        owner_changes: list[tuple[float, str | None]] = []
        kill_at = 0.0
        killed = asyncio.Event()

        async def watch_owner() -> None:
            last: str | None = victim
            while True:
                now_owner = await owner_of(redis, stack.redis_prefix, project_id)
                if now_owner != last:
                    owner_changes.append((time.time(), now_owner))
                    last = now_owner
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch_owner())
        t0 = time.perf_counter()
        total_s = args.before_kill_s + args.after_kill_s
        tick = 0
        while True:
            due = t0 + tick * 0.1
            if due - t0 > total_s:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(sender.put(pool, "failover")))
            if not killed.is_set() and time.perf_counter() - t0 >= args.before_kill_s:
                # kill while this tick's request is on its way: forwarded to the owner, maybe
                # committed there, never answered (its caller must not count it as acknowledged)
                await asyncio.sleep(args.kill_delay_ms / 1000)
                victim_pid = nodes[victim].proc.pid
                kill_at = time.time()
                os.kill(victim_pid, signal.SIGKILL)  # the node we started, by its pid
                killed.set()
                print(f"phase 2: killed {victim} (pid {victim_pid})", flush=True)
            tick += 1
        await asyncio.gather(*tasks)
        watcher.cancel()
        nodes[victim].proc.wait(10)
        records = sender.records[phase2_start:]
        ok_after = [r for r in records if r["status"] == "200" and r["done"] > kill_at]
        first_ok = min((r["done"] for r in ok_after), default=None)
        sent_after_ok = [r for r in ok_after if r["sent"] > kill_at]
        statuses_after = Counter(r["status"] for r in records if r["sent"] > kill_at or r["done"] > kill_at)
        out["failover"] = {
            "victim": victim, "survivor_sender": survivor, "requests": len(records),
            "statuses": dict(Counter(r["status"] for r in records)),
            "statuses_in_flight_or_after_kill": dict(statuses_after),
            "recovery_s": round(first_ok - kill_at, 2) if first_ok else None,
            "first_ok_request_sent_after_kill_s": round(min(r["sent"] for r in sent_after_ok) - kill_at, 2)
            if sent_after_ok else None,
            "owner_changes": [[round(t - kill_at, 2), n] for t, n in owner_changes],
            "slowest_ok_ms": round(max((r["done"] - r["sent"]) * 1000 for r in ok_after), 1) if ok_after else None,
        }  # fmt: skip
        print(f"phase 2: {json.dumps(out['failover'])}", flush=True)

        # 3. loss
        rows = await journal(stack.database_url, project_id)
        last = rows[-1]["seq"]
        until = {ws_path: last}
        for proc in procs.values():
            await proc.command({"cmd": "wait", "until": until, "timeout_s": 30}, 60)
        sent = {r["note"]: r["sent"] for r in records}
        times = {ws_path: {str(r["seq"]): [sent.get(r["note"]), r["at"]] for r in rows if r["note"] in sent}}
        final = {
            name: await proc.command({"cmd": "report", "times": times}, 60) for name, proc in procs.items()
        }
        notes = {r["note"] for r in rows}
        acked = [r["note"] for r in sender.records if r["status"] == "200"]
        out["loss"] = {
            "journal_last_seq": last,
            "journal_contiguous": [r["seq"] for r in rows] == list(range(1, last + 1)),
            "acked": len(acked), "acked_missing": len([n for n in acked if n not in notes]),
            "unacked_in_journal": len([r for r in sender.records if r["status"] != "200" and r["note"] in notes]),
            "subscribers": {
                name: {**seq_check(rep["seqs_by_socket"][0], last), "reconnects": rep["reconnects"],
                       "closes": rep["closes"],
                       "failover_events_from_send": hist_summary(merge_hist([rep], "hist_send"))}
                for name, rep in final.items()
            },
        }  # fmt: skip
        for proc in procs.values():
            await proc.command({"cmd": "close"}, 30)
    finally:
        await asyncio.gather(*(p.stop() for p in procs.values()), return_exceptions=True)
        for client in clients:
            await client.aclose()
        await redis.aclose()
    return out


def print_table(out: dict[str, Any], args: argparse.Namespace) -> None:
    p1, f, loss = out["phase1"], out["failover"], out["loss"]
    lc, la = p1["lt-c_from_send"], p1["lt-c_from_at"]
    subs = loss["subscribers"]
    rows = [
        ("A→C event latency p50/p99 (from send)", f"{lc['p50_ms']} / {lc['p99_ms']} ms", "",
         f"n={lc['n']}, max {lc['max_ms']} ms; HTTP via A p50/p99 {p1['http_p50_ms']}/{p1['http_p99_ms']} ms"),
        ("A→C event latency p50/p99 (from `at`)", f"{la['p50_ms']} / {la['p99_ms']} ms", "", f"max {la['max_ms']} ms"),
        ("kill -9 owner → first 200 answer", f"{f['recovery_s']} s", "≤ 5 s",
         f"owner {f['victim']}; Redis owner changes {f['owner_changes']}"),
        ("failover requests (every 100 ms)", str(f["statuses"]), "", f"to {f['survivor_sender']}; "
         f"in flight or after kill {f['statuses_in_flight_or_after_kill']}"),
        ("journal 1..N contiguous", f"{loss['journal_contiguous']} (N={loss['journal_last_seq']})", "True", ""),
        ("acknowledged updates missing", f"{loss['acked_missing']} of {loss['acked']}", "0",
         f"{loss['unacked_in_journal']} unacknowledged ones were committed"),
        *(
            (f"subscriber on {name}: every seq 1..N, in order", str(s["complete_1_to_n"]), "True",
             f"missing {s['missing']}, duplicates {s['duplicates']}, reconnects {s['reconnects']}, "
             f"closes {s['closes']}")
            for name, s in subs.items()
        ),
    ]  # fmt: skip
    print_rows(rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_cluster", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--events", type=int, default=600, help="updates of the A→C phase (default 600)")
    add("--rate", type=float, default=50.0, help="their rate per second (default 50)")
    add("--http-callers", type=int, default=4, help="connections sending them (default 4)")
    add("--before-kill-s", type=float, default=2.0)
    add("--after-kill-s", type=float, default=15.0)
    add(
        "--kill-delay-ms",
        type=float,
        default=5.0,
        help="kill this long after sending a request, so one is in flight (default 5)",
    )
    add("--timeout-s", type=float, default=300.0, help="limit of the whole run (default 300)")
    args = parser.parse_args(argv)
    if args.events < 1 or args.rate <= 0 or args.after_kill_s < 5:
        parser.error("--events, --rate positive; --after-kill-s at least 5")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    raise_fd_limit()
    args = parse_args(argv)
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"bench_cluster  {describe_machine()}\ncommand: python -m loadtest.bench_cluster {shown}".rstrip())
    started = time.perf_counter()
    with running_stack("wsclu", with_worker=False, node_id=NODES[0]) as stack:
        nodes = {NODES[0]: stack.server, **{n: stack.start_node(n) for n in NODES[1:]}}

        async def bounded() -> dict[str, Any]:
            async with asyncio.timeout(args.timeout_s):
                return await run(stack, nodes, args)

        out = asyncio.run(bounded())
        out["log_problems"], out["log_examples"] = stack.log_problems(limit=8)
    out["elapsed_s"] = round(time.perf_counter() - started, 1)
    out["load"] = os.getloadavg()
    print_table(out, args)
    print(json.dumps(out, ensure_ascii=False))
    loss, f = out["loss"], out["failover"]
    bad = (
        not loss["journal_contiguous"]
        or loss["acked_missing"]
        or not all(s["complete_1_to_n"] for s in loss["subscribers"].values())
        or f["recovery_s"] is None
    )
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
