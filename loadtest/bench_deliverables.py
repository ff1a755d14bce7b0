"""Deliverables (issue 8) through the workers: many documents generated at once, against its own
server and worker on 127.0.0.1.

    .venv/bin/python -m loadtest.bench_deliverables [--documents 100] [--kind construction_permit]
        [--processes 2] [--timeout-s 600]

A demo issuer (发证人员) POSTs `--documents` generation requests for one project at once (the
certificate's sample data, so each is a full render: layout, embedded fonts, vector QR, PNG preview),
then polls every deliverable until it is rendered. Prints, and as one JSON line: how long the POSTs
took (p50/p95), each document's latency from its POST to `draft` (p50/p95/max), the throughput
(documents/s over the whole run), and the worker's peak RSS with its rendering processes.
Exit status 0 when every document rendered, 1 otherwise.
Must not: run unbounded (`--timeout-s`) or talk to anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from docgen.pdf.template import sample_data
from loadtest.stack import running_stack


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_kib(pid: int) -> int:
    """The process's and its children's resident set (VmRSS), in KiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


async def login(base_url: str, login_name: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=60)
    answer = await client.post("/api/v1/login", json={"login": login_name, "password": password})
    answer.raise_for_status()
    csrf = answer.json().get("csrf_token")
    if csrf:
        client.headers["x-csrf-token"] = csrf
    return client


async def run(base_url: str, password: str, worker_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    owner = await login(base_url, "pujiang", password)
    project = await owner.post(
        "/api/v1/projects", json={"code": "2026-310115-47-01-990001", "name": "出具文件压测项目"}
    )
    project.raise_for_status()
    project_id = project.json()["id"]
    issuer = await login(base_url, "zhujian_issue", password)
    data = sample_data(args.kind)
    peak = rss_kib(worker_pid)
    started = time.perf_counter()

    async def post() -> tuple[str, float, float]:
        sent = time.perf_counter()
        answer = await issuer.post(
            f"/api/v1/projects/{project_id}/deliverables", json={"kind": args.kind, "data": data}
        )
        answer.raise_for_status()
        return answer.json()["id"], sent, time.perf_counter() - sent

    posted = await asyncio.gather(*(post() for _ in range(args.documents)))
    post_times = [p[2] for p in posted]
    pending = {p[0]: p[1] for p in posted}
    latencies: list[float] = []
    failed = 0
    deadline = started + args.timeout_s
    while pending and time.perf_counter() < deadline:
        peak = max(peak, rss_kib(worker_pid))
        listed = (await issuer.get(f"/api/v1/projects/{project_id}/deliverables")).json()["deliverables"]
        now = time.perf_counter()
        for d in listed:
            if d["id"] in pending and d["status"] in ("draft", "failed"):
                latencies.append(now - pending.pop(d["id"]))
                failed += d["status"] == "failed"
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    await owner.aclose()
    await issuer.aclose()
    return {
        "documents": args.documents, "kind": args.kind, "processes": args.processes,
        "rendered": len(latencies) - failed, "failed": failed, "unfinished": len(pending),
        "post_p50_s": round(statistics.median(post_times), 3), "post_p95_s": round(percentile(post_times, 0.95), 3),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 0.95), 3) if latencies else None,
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "elapsed_s": round(elapsed, 2), "throughput_per_s": round(len(latencies) / elapsed, 2),
        "worker_peak_rss_mib": round(peak / 1024, 1),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--kind", default="construction_permit")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=600)
    args = parser.parse_args()
    extra = {"TONGBAN_DOCGEN_PROCESSES": str(args.processes), "TONGBAN_WORKER_CONCURRENCY": "20"}
    with running_stack("docs", extra_env=extra) as stack:
        result = asyncio.run(run(stack.server.url, stack.password, stack.workers[0].proc.pid, args))
        problems, examples = stack.log_problems()
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    print(f"{'log problems':>22}: {problems} {examples[:2]}")
    print(json.dumps(result))
    return 0 if result["rendered"] == args.documents else 1


if __name__ == "__main__":
    sys.exit(main())
