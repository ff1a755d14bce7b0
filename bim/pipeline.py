"""Runs one check: the stages in a child process (`bim.child`) under a memory cap, each stage under
its own time limit, with progress reported at least every `HEARTBEAT_S` seconds whatever the stage is
doing; assembles the report. A stage that overruns its limit, or a child that dies (a crash of the
IFC library, the memory cap), ends that stage as timed out or crashed and blocks the ones after it:
the worker running this survives.

Must not: run IFC code in this process, or put times or paths in the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bim.report import STAGE_LABELS, STAGES, Report, StageReport, verdict_of

logger = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
DEFAULT_TIMEOUTS_S: dict[str, float] = {
    "intake": 60, "header": 10, "syntax": 120, "schema": 240, "normative": 240, "tender": 120, "ids": 120,
}  # fmt: skip
DEFAULT_MEMORY_BYTES = 3 * 1024**3 // 2  # 1.5 GB per check (the ceiling)
LINE_LIMIT = 256 * 1024 * 1024  # one stage result line (outcomes are capped per rule)

OnProgress = Callable[[dict[str, Any]], Awaitable[None]]


async def run_check(
    path: Path, file_name: str, model_sm3: str, rule_set: dict[str, Any], content: dict[str, Any],
    work_dir: Path, on_progress: OnProgress, memory_bytes: int = DEFAULT_MEMORY_BYTES,
    stats: dict[str, Any] | None = None,
) -> Report:  # fmt: skip
    """Check the stored file `path` (SM3 `model_sm3`) under the rule-set version `rule_set` ({"id",
    "version", "content_sm3"}) whose content is `content`. `stats`, when given, receives what must not
    go into the report: seconds and peak memory per stage."""
    job = {"path": str(path), "file_name": file_name, "content": content, "work_dir": str(work_dir),
           "memory_bytes": memory_bytes, "model_sm3": model_sm3}  # fmt: skip
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bim.child", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, limit=LINE_LIMIT, cwd=str(work_dir),
    )  # fmt: skip
    run = _Run(child, {**DEFAULT_TIMEOUTS_S, **(content.get("stage_timeouts_s") or {})}, on_progress)
    try:
        await run.follow(json.dumps(job).encode())
    finally:
        await run.end()
    if stats is not None:
        stats.update(run.stats)
    stages = _in_order(run.reports, run.ending)
    verdict, counts = verdict_of(stages)
    return Report(model_sm3=model_sm3, model_schema=run.schema, rule_set=rule_set, stages=stages,
                  verdict=verdict, counts=counts)  # fmt: skip


class _Run:
    """Follows one child: its events, the current stage's deadline, the heartbeat."""

    def __init__(
        self, child: asyncio.subprocess.Process, timeouts: dict[str, float], on_progress: OnProgress
    ):
        self.child = child
        self.timeouts = timeouts
        self.on_progress = on_progress
        self.reports: dict[str, StageReport] = {}
        self.stage: str | None = None
        self.started = time.monotonic()
        self.schema: str | None = None
        self.ending: StageReport | None = None
        self.done = False
        self.stats: dict[str, Any] = {"seconds": {}, "memory": {}}
        self.progress: dict[str, Any] = {"stage": None, "percent": 0.0, "counts": {}}

    async def heartbeat(self) -> None:
        await self.on_progress(self.progress)

    async def follow(self, job: bytes) -> None:
        assert self.child.stdin is not None
        assert self.child.stdout is not None
        self.child.stdin.write(job)
        self.child.stdin.close()
        while True:
            limit = float(self.timeouts.get(self.stage or "", 60.0))
            try:
                line = await _read_line(self.child.stdout, self.started + limit, self.heartbeat)
            except TimeoutError:
                label = STAGE_LABELS.get(self.stage or "", self.stage)
                self.ending = StageReport(stage=self.stage or STAGES[0], status="timeout",
                                          message=f"“{label}”超过 {limit:g} 秒未完成，已终止")  # fmt: skip
                return
            if not line:
                code = await self.child.wait()
                if not self.done:  # died before it finished: in a stage, or before the first one
                    message = f"检查进程异常退出（退出码 {code}，可能超出内存上限或模型触发了解析库缺陷）"
                    stage = self.stage if self.stage not in self.reports else None
                    crashed = stage or next((s for s in STAGES if s not in self.reports), STAGES[-1])
                    self.ending = StageReport(stage=crashed, status="crashed", message=message)
                return
            await self.take(json.loads(line))

    async def take(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "stage":
            self.stage, self.started = event["stage"], time.monotonic()
            self.progress = {"stage": self.stage, "percent": 0.0, "counts": {}}
            await self.on_progress(self.progress)
        elif kind == "progress":
            self.progress = {"stage": event["stage"], "percent": event["percent"], "counts": event["counts"]}
            await self.on_progress(self.progress)
        elif kind == "result":
            report = StageReport.model_validate(event["report"])
            self.reports[report.stage] = report
            self.stats["seconds"][report.stage] = round(float(event.get("seconds", 0.0)), 3)
            self.stats["memory"][report.stage] = event.get("memory", {})
        elif kind == "done":
            self.schema = event.get("model_schema")
            self.done = True

    async def end(self) -> None:
        if self.child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.child.kill()
            await self.child.wait()
        stderr = await self.child.stderr.read() if self.child.stderr else b""
        if stderr.strip():
            logger.warning("bim.child_stderr", extra={"tail": stderr[-2000:].decode(errors="replace")})
        if self.ending is not None:
            self.reports[self.ending.stage] = self.ending


def _in_order(reports: dict[str, StageReport], ending: StageReport | None) -> list[StageReport]:
    stages: list[StageReport] = []
    for name in STAGES:
        if name in reports:
            stages.append(reports[name])
        elif ending is not None:
            label = STAGE_LABELS[ending.stage]
            stages.append(
                StageReport(stage=name, status="blocked", message=f"因“{label}”未完成，本阶段未执行")
            )
    return stages


async def _read_line(
    stream: asyncio.StreamReader, deadline: float, heartbeat: Callable[[], Awaitable[None]]
) -> bytes:
    """The next line, sending a heartbeat every HEARTBEAT_S while waiting; TimeoutError past `deadline`."""
    reading = asyncio.ensure_future(stream.readline())
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            done, _ = await asyncio.wait({reading}, timeout=min(HEARTBEAT_S, left))
            if done:
                return reading.result()
            await heartbeat()
    finally:
        if not reading.done():
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
