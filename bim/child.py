"""The checking child process: `python -m bim.child`, run by `bim.pipeline` for one model. It caps
its own address space (the check's ceiling, and below it each stage's own when the rule set sets one),
reads its job (JSON) from stdin, runs the stages in order and writes one JSON line per event to
stdout: `{"event": "stage", "stage"}` when a stage starts, `{"event": "progress", "stage", "percent",
"counts"}` while it runs, `{"event": "result", "report": StageReport, "seconds", "memory"}` when it
ends. A crash, a hang or running out of memory in the IFC library ends this process only; the parent
notices and reports the stage as crashed or timed out.

Must not: touch the database, Redis or the network; write outside its work directory.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bim.report import GATES, STAGE_LABELS, STAGES, StageReport
from bim.stages import STAGE_FUNCTIONS, StageContext


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def cap_memory(limit_bytes: int) -> None:
    """The whole check's ceiling (the hard limit: no stage can raise it)."""
    if limit_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))


def cap_stage(limit_bytes: int | None) -> None:
    """A stage's own ceiling (the soft limit, at most the hard one); None: the whole check's."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = hard if limit_bytes is None or limit_bytes <= 0 else limit_bytes
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def memory_now() -> dict[str, int]:
    """Peak resident set and peak address space of this process so far, in bytes (Linux)."""
    peaks = {"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                peaks["address_space"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return peaks


def main() -> int:
    job = json.loads(sys.stdin.read())
    cap_memory(int(job.get("memory_bytes", 0)))
    ctx = StageContext(
        path=Path(job["path"]), file_name=job["file_name"], content=job["content"], work_dir=Path(job["work_dir"]),
        model_sm3=job.get("model_sm3"),
        progress=lambda stage, percent, counts: emit(
            {"event": "progress", "stage": stage, "percent": percent, "counts": counts}
        ),
    )  # fmt: skip
    blocked_by: str | None = None
    for stage in STAGES:
        if stage in job.get("skip", ()):
            continue
        emit({"event": "stage", "stage": stage})
        cap_stage((job["content"].get("stage_memory_bytes") or {}).get(stage))
        started = time.monotonic()
        if blocked_by is not None:
            report = StageReport(
                stage=stage, status="blocked", message=f"因“{STAGE_LABELS[blocked_by]}”未通过，本阶段未执行"
            )
        else:
            report = STAGE_FUNCTIONS[stage](ctx)
        emit(
            {
                "event": "result",
                "report": report.model_dump(mode="json"),
                "seconds": time.monotonic() - started,
                "memory": memory_now(),
            }
        )
        if blocked_by is None and stage in GATES and report.blocking:
            blocked_by = stage
    emit({"event": "done", "model_schema": ctx.model_schema, "memory": memory_now()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
