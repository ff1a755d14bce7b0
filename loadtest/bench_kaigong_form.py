"""The one form of 开工一件事 under use (issue 9), against its own server and worker on 127.0.0.1: how fast
the live check answers while an applicant types, and how long a whole signed submission takes.

    .venv/bin/python -m loadtest.bench_kaigong_form [--checks 300] [--concurrency 20] [--submissions 20]

1. `--checks` POSTs of /kaigong/form/check with a complete five-item form, one at a time (p50/p95), then
   the same number from `--concurrency` applicants typing at once, each sending its checks in turn
   (p50/p95, checks/s);
2. `--submissions` projects, each: its required materials uploaded (19 small PDFs), the form signed with
   the enterprise's SM2 key and submitted (the server verifies the signature, every rule and every
   material, numbers the application and opens five cases through the project actor): p50/p95 of the
   submission request alone and of the whole sequence.
Prints one table and one JSON line. Must not: run unbounded or talk to anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from typing import Any

import httpx

from loadtest.stack import running_stack
from server import db
from server.config import Settings
from tests.conftest import unique_code
from tests.server.approval.kaigong import attach_required, ready, signed_submission, values_for


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def login(base_url: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=60)
    answer = await client.post("/api/v1/login", json={"login": "pujiang", "password": password})
    answer.raise_for_status()
    client.headers["x-csrf-token"] = answer.json()["csrf_token"]
    return client


async def run(stack: Any, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(database_url=stack.database_url, var_dir=stack.var_dir)
    pool = await db.create_pool(
        stack.database_url, min_size=1, max_size=2, timeout_s=10, statement_timeout_s=30
    )
    try:
        key = await ready(pool, settings.keys_path, settings.var_path)
    finally:
        await pool.close()
    client = await login(stack.server.url, stack.password)
    project = (
        await client.post("/api/v1/projects", json={"code": unique_code(), "name": "表单压测项目"})
    ).json()
    values = values_for(project)
    url = f"/api/v1/projects/{project['id']}/kaigong/form/check"

    async def check(c: httpx.AsyncClient) -> float:
        started = time.perf_counter()
        answer = await c.post(url, json={"values": values})
        answer.raise_for_status()
        assert answer.json()["errors"] == []
        return time.perf_counter() - started

    sequential = [await check(client) for _ in range(args.checks)]
    clients = [await login(stack.server.url, stack.password) for _ in range(args.concurrency)]
    started = time.perf_counter()
    per = args.checks // args.concurrency

    async def typist(c: httpx.AsyncClient) -> list[float]:  # one applicant: a check per change, in turn
        return [await check(c) for _ in range(per)]

    batches = await asyncio.gather(*(typist(c) for c in clients))
    concurrent = [t for batch in batches for t in batch]
    concurrent_s = time.perf_counter() - started
    submit_times, whole_times = [], []
    for _ in range(args.submissions):
        whole = time.perf_counter()
        new = (
            await client.post("/api/v1/projects", json={"code": unique_code(), "name": "提交压测项目"})
        ).json()
        new_values = values_for(new)
        form = (
            await client.post(f"/api/v1/projects/{new['id']}/kaigong/form/check", json={"values": new_values})
        ).json()
        attached = await attach_required(client, new["id"], form)
        body = signed_submission(form, new["id"], new_values, key, attached)
        started = time.perf_counter()
        answer = await client.post(f"/api/v1/projects/{new['id']}/kaigong/applications", json=body,
                                   headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        submit_times.append(time.perf_counter() - started)
        whole_times.append(time.perf_counter() - whole)
        assert answer.status_code == 201, answer.text
        assert len(answer.json()["cases"]) == 5
    for c in [client, *clients]:
        await c.aclose()
    return {
        "check_p50_ms": round(statistics.median(sequential) * 1000, 1),
        "check_p95_ms": round(p95(sequential) * 1000, 1),
        "concurrent_clients": args.concurrency,
        "concurrent_check_p50_ms": round(statistics.median(concurrent) * 1000, 1),
        "concurrent_check_p95_ms": round(p95(concurrent) * 1000, 1),
        "checks_per_s": round(len(concurrent) / concurrent_s, 1),
        "submit_p50_ms": round(statistics.median(submit_times) * 1000, 1),
        "submit_p95_ms": round(p95(submit_times) * 1000, 1),
        "materials_and_submit_p50_s": round(statistics.median(whole_times), 2),
        "materials_and_submit_p95_s": round(p95(whole_times), 2),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--submissions", type=int, default=20)
    args = parser.parse_args()
    with running_stack("kgform") as stack:
        result = asyncio.run(run(stack, args))
        problems, examples = stack.log_problems()
    for key, value in result.items():
        print(f"{key:>28}: {value}")
    print(f"{'log problems':>28}: {problems} {examples[:2]}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
