"""开工一件事 statistics at volume (issue 9): 100,000 item cases generated into a fresh database, then the
administrators' statistics (per item and department: counts, mean and P90 working days, overdue) timed
through the API, against its own server on 127.0.0.1.

    .venv/bin/python -m loadtest.bench_kaigong_stats [--cases 100000] [--repeat 5] [--seed 9]

The generator writes projects, applications and cases with COPY (states, acceptance dates, due dates,
working days used and overdue flags drawn from fixed distributions, seeded, so runs compare). Prints the
generation time, then the median and max of `--repeat` GETs of /api/v1/kaigong/stats as the demo
administrator, the query time the server reports, and checks that the counts add up to `--cases`.
Exit status 0 when they do and the median is under 1 s. Must not: touch any database but its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx

from loadtest.stack import running_stack
from server import db
from server.seed import stable_id

ITEMS = [  # (code, name, department code, committed working days)
    ("SGXK", "建筑工程施工许可", "DEPT-ZJW", 5), ("XFSJ", "特殊建设工程消防设计审查", "DEPT-ZJW", 12),
    ("LSZL", "临时占用城市绿地审批", "DEPT-LHSR", 15), ("JLZL", "城市道路挖掘占用许可", "DEPT-JT", 15),
    ("LSPS", "城镇污水排入排水管网许可（临时）", "DEPT-SW", 15),
    ("MFJS", "结合民用建筑修建防空地下室审批", "DEPT-MF", 15),
]  # fmt: skip
STATES = [("approved", 0.55), ("refused", 0.03), ("withdrawn", 0.02), ("reviewing", 0.15), ("accepted", 0.1),
          ("correction", 0.05), ("submitted", 0.1)]  # fmt: skip


async def generate(url: str, cases: int, seed: int) -> float:
    rng = random.Random(seed)
    started = time.perf_counter()
    conn = await db.connect(url)
    try:
        owner = stable_id("org", "91310115MA1K4AB12X")
        user = stable_id("user", "pujiang")
        admin = stable_id("user", "admin")
        catalogue, version = uuid.uuid4(), uuid.uuid4()
        await conn.execute("INSERT INTO approval_catalogue (id, name, created_by) VALUES ($1, '压测目录', $2)",
                           catalogue, admin)  # fmt: skip
        await conn.execute(
            "INSERT INTO approval_catalogue_version (id, catalogue_id, version, status, content, content_sm3,"
            " created_by, published_by, published_at) VALUES ($1, $2, 1, 'published', '{}', $3, $4, $4, now())",
            version, catalogue, "0" * 64, admin,
        )  # fmt: skip
        certificate = uuid.uuid4()
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO org_certificate (id, org_id, serial, subject, public_key_pem, valid_from, valid_to)"
            " VALUES ($1, $2, 'BENCH', 'CN=bench', '-', $3, $4)", certificate, owner, now - timedelta(days=1),
            now + timedelta(days=1),
        )  # fmt: skip
        applications = cases // len(ITEMS) + 1
        projects = [(uuid.uuid4(), f"2026-310115-47-01-{i:06d}", f"压测项目{i}", owner, user)
                    for i in range(applications)]  # fmt: skip
        await conn.copy_records_to_table("project", records=projects,
                                         columns=["id", "code", "name", "owner_org_id", "created_by"])  # fmt: skip
        apps = [(uuid.uuid4(), p[0], "kaigong", version, [c for c, *_ in ITEMS], b"-", "0" * 64, b"-", certificate,
                 f"bench-{i}", user, owner) for i, p in enumerate(projects)]  # fmt: skip
        await conn.copy_records_to_table("approval_application", records=apps, columns=[
            "id", "project_id", "bundle", "catalogue_version_id", "items", "signed_sealed", "signed_sm3", "signature",
            "certificate_id", "idempotency_key", "submitted_by", "org_id"])  # fmt: skip
        rows = []
        states, weights = zip(*STATES, strict=True)
        for n in range(cases):
            app = apps[n // len(ITEMS)]
            code, name, dept, committed = ITEMS[n % len(ITEMS)]
            state = rng.choices(states, weights)[0]
            accepted = date(2026, 1, 5) + timedelta(days=rng.randrange(300)) if state != "submitted" else None
            decided = state in ("approved", "refused")
            used = max(1, round(rng.gauss(committed * 0.8, committed * 0.35))) if decided else None
            overdue = "overdue" if not decided and state != "withdrawn" and rng.random() < 0.08 else "on_time"
            deadline = "done" if state in ("approved", "refused", "withdrawn") else overdue
            rows.append(
                (
                    uuid.uuid4(),
                    app[0],
                    app[1],
                    code,
                    name,
                    stable_id("org", dept),
                    state,
                    committed + 2,
                    committed,
                    accepted,
                    accepted + timedelta(days=committed + 4) if accepted else None,
                    deadline,
                    accepted + timedelta(days=(used or 0) + 2) if decided and accepted else None,
                    used,
                )
            )
        await conn.copy_records_to_table("approval_case", records=rows, columns=[
            "id", "application_id", "project_id", "item_code", "item_name", "dept_org_id", "state", "statutory_wd",
            "committed_wd", "accepted_on", "due_on", "deadline_state", "decided_on", "used_wd"])  # fmt: skip
        await conn.execute("ANALYZE approval_case")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def measure(base_url: str, password: str, repeat: int) -> tuple[list[float], list[float], int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        login = await client.post("/api/v1/login", json={"login": "admin", "password": password})
        login.raise_for_status()
        walls, reported, total = [], [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            answer = await client.get("/api/v1/kaigong/stats")
            walls.append(time.perf_counter() - started)
            answer.raise_for_status()
            body = answer.json()
            reported.append(body["elapsed_ms"] / 1000)
            total = body["cases"]
    return walls, reported, total


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    with running_stack("kgstats", with_worker=False) as stack:
        generated = asyncio.run(generate(stack.database_url, args.cases, args.seed))
        walls, reported, total = asyncio.run(measure(stack.server.url, stack.password, args.repeat))
    result = {
        "cases": args.cases, "generate_s": round(generated, 1), "counted": total,
        "api_median_s": round(statistics.median(walls), 3), "api_max_s": round(max(walls), 3),
        "query_median_s": round(statistics.median(reported), 3),
    }  # fmt: skip
    for key, value in result.items():
        print(f"{key:>16}: {value}")
    print(json.dumps(result))
    return 0 if total == args.cases and result["api_median_s"] < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
