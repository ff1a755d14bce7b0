"""A whole BIM check of a 100 MB-class model, as the worker runs it (`bim.pipeline.run_check`: one
child process, every stage, every registered rule enabled, the Shanghai bid data-item list as the
IDS), with the seconds and peak memory of each stage and the time to the first verdict (intake +
header + STEP syntax).

    .venv/bin/python -m loadtest.bench_bim [--model ../shared/data/ifc/models/AC20-FZK-Haus.ifc]
        [--copies 40] [--memory-mib 1536] [--runs 1]

The model is a real one replicated N times in a temporary directory (`loadtest.bim_scale`): a
synthetic stand-in of the size class, for timing. Targets (issue 7): first verdict ≤ 5 s; the full
compliance check ≤ 180 s and ≤ 1.5 GB per worker; IDS with its fill-in report ≤ 10 s.
Must not: write outside its temporary directory, or run unbounded (the stages' own limits apply).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bim.ids.seed import seed_ids_xml
from bim.pipeline import run_check
from bim.rules import load_all
from loadtest.bim_scale import replicate
from server.security.sm3 import Sm3

MIB = 1024 * 1024
FIRST_VERDICT = ("intake", "header", "syntax")


def digest(path: Path) -> str:
    hasher = Sm3()
    with path.open("rb") as f:
        while chunk := f.read(MIB):
            hasher.update(chunk)
    return hasher.hexdigest()


async def one_run(model: Path, work: Path, memory_bytes: int) -> dict[str, Any]:
    content = {
        "allowed_schemas": ["IFC4"],
        "rules": {code: {"enabled": True, "params": {}} for code in load_all()},
        "ids": {"name": "上海市BIM辅助评标数据项", "xml": seed_ids_xml()},
        "stage_timeouts_s": {"schema": 600, "normative": 600, "tender": 300, "ids": 300},
    }
    progress_gaps: list[float] = []
    last = time.monotonic()

    async def on_progress(progress: dict[str, Any]) -> None:
        nonlocal last
        now = time.monotonic()
        progress_gaps.append(now - last)
        last = now

    stats: dict[str, Any] = {}
    started = time.monotonic()
    report = await run_check(model, model.name, digest(model), {"id": "bench", "version": 1, "content_sm3": "0" * 64},
                             content, work, on_progress, memory_bytes=memory_bytes, stats=stats)  # fmt: skip
    total = time.monotonic() - started
    seconds = stats.get("seconds", {})
    memory = stats.get("memory", {})
    return {
        "total_s": round(total, 1),
        "first_verdict_s": round(sum(seconds.get(s, 0.0) for s in FIRST_VERDICT), 2),
        "compliance_s": round(sum(seconds.get(s, 0.0) for s in ("schema", "normative", "tender")), 1),
        "stages": {
            s.stage: {
                "status": s.status,
                "seconds": seconds.get(s.stage),
                "peak_rss_mib": round(memory.get(s.stage, {}).get("rss", 0) / MIB),
                "peak_address_space_mib": round(memory.get(s.stage, {}).get("address_space", 0) / MIB),
                "errors": sum(r.counts.get("ERROR", 0) for r in s.results),
            }
            for s in report.stages
        },
        "verdict": report.verdict,
        "max_progress_gap_s": round(max(progress_gaps, default=0.0), 2),
        "report_bytes": len(report.canonical()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("../shared/data/ifc/models/AC20-FZK-Haus.ifc"))
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--memory-mib", type=int, default=1536)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if not args.model.is_file():
        print(f"model not found: {args.model}", file=sys.stderr)
        return 2
    print(f"bench_bim  {time.strftime('%Y-%m-%dT%H:%M:%S%z')}  {os.cpu_count()} cpus  load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="tongban-bench-bim-") as tmp:
        model = Path(tmp) / f"{args.model.stem}-x{args.copies}.ifc"
        size = replicate(args.model, model, args.copies)
        print(f"model: {model.name}, {size / 1e6:.1f} MB")
        for run in range(args.runs):
            result = asyncio.run(one_run(model, Path(tmp) / f"work{run}", args.memory_mib * MIB))
            print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
