"""The whole pipeline, child process and all, over every IFC file of the corpus: no stage ever ends
as crashed or timed out (no worker crash, no hang), every malformed file and header syntax error is
refused with a clear outcome, and cyclic placements are found."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bim.pipeline import run_check
from bim.report import Report
from bim.rules import load_all
from server.security.sm3 import sm3_hex

RULE_SET = {"id": "conformance", "version": 1, "content_sm3": "0" * 64}
CONTENT: dict[str, Any] = {
    "allowed_schemas": ["IFC2X3", "IFC4", "IFC4X3_ADD2"],
    "rules": {code: {"enabled": True, "params": {}} for code in load_all()},
    "ids": None,
}


async def _check(path: Path, work: Path) -> Report:
    async def ignore(progress: dict[str, Any]) -> None:
        return None

    digest = sm3_hex(await asyncio.to_thread(path.read_bytes))
    return await run_check(path, path.name, digest, RULE_SET, CONTENT, work, ignore)


async def _check_all(paths: list[Path], work: Path, parallel: int = 2) -> dict[Path, Report]:
    gate = asyncio.Semaphore(parallel)
    reports: dict[Path, Report] = {}

    async def one(index: int, path: Path) -> None:
        async with gate:
            reports[path] = await _check(path, work / str(index))

    await asyncio.gather(*(one(i, p) for i, p in enumerate(paths)))
    return reports


@pytest.mark.timeout(1800)
async def test_no_file_of_the_corpus_crashes_or_hangs_a_check_and_broken_files_are_refused(
    corpus: Path, tmp_path
):
    paths = sorted((corpus / "ifc").rglob("*.ifc")) + sorted((corpus / "bcf" / "ifc").glob("*.ifc"))
    reports = await _check_all(paths, tmp_path)
    broken = [f"{p.relative_to(corpus)}: {s.stage} {s.status} {s.message}"
              for p, r in reports.items() for s in r.stages if s.status in ("crashed", "timeout")]  # fmt: skip
    assert not broken, "\n".join(broken)
    refused = []
    for path, report in reports.items():
        name = str(path.relative_to(corpus))
        must_refuse = "/malformed/" in f"/{name}" or "/header-policy/syntax_error/" in f"/{name}"
        if must_refuse and report.verdict != "failed":
            refused.append(f"{name}: not refused")
    assert not refused, "\n".join(refused)
    cyclic = reports[corpus / "ifc" / "malformed" / "cyclic-placement.ifc"]
    found = {r.rule for s in cyclic.stages for r in s.results if r.severity >= 4}
    assert "TB101" in found, found
