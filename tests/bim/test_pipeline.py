"""The checking pipeline as the worker runs it: every stage in a child process, in order, the same
report bytes for the same model and rule set, a stage over its time limit ended and the later ones
blocked, a child that dies (here: a memory cap too small to even load the IFC library) reported as
crashed while the caller carries on, progress at least every few seconds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.api
import pytest

from bim.pipeline import HEARTBEAT_S, _read_line, run_check
from bim.report import STAGES, Report
from bim.rules import load_all
from server.security.sm3 import sm3_hex

RULE_SET = {"id": "00000000-0000-0000-0000-000000000001", "version": 1, "content_sm3": "0" * 64}


def small_model(path: Path) -> Path:
    model = ifcopenshell.api.run("project.create_file", version="IFC4")
    project = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcProject", name="测试项目")
    ifcopenshell.api.run("unit.assign_unit", model)
    site = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcSite", name="场地")
    building = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcBuilding", name="1号楼")
    storey = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcBuildingStorey", name="一层")
    ifcopenshell.api.run("aggregate.assign_object", model, products=[site], relating_object=project)
    ifcopenshell.api.run("aggregate.assign_object", model, products=[building], relating_object=site)
    ifcopenshell.api.run("aggregate.assign_object", model, products=[storey], relating_object=building)
    wall = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcWall", name="外墙")
    ifcopenshell.api.run("spatial.assign_container", model, products=[wall], relating_structure=storey)
    model.write(str(path))
    return path


def content(**overrides: Any) -> dict[str, Any]:
    rules = {code: {"enabled": True, "params": {}} for code in load_all()}
    return {"allowed_schemas": ["IFC4"], "rules": rules, "ids": None, **overrides}


async def check(path: Path, work: Path, events: list[dict[str, Any]] | None = None, **kwargs: Any) -> Report:
    async def on_progress(progress: dict[str, Any]) -> None:
        if events is not None:
            events.append(dict(progress))

    body = content(**kwargs.pop("content", {}))
    digest = sm3_hex(await asyncio.to_thread(path.read_bytes))
    return await run_check(path, path.name, digest, RULE_SET, body, work, on_progress, **kwargs)


async def test_a_check_runs_every_stage_in_order_and_gives_the_same_bytes_twice(tmp_path: Path):
    path = small_model(tmp_path / "model.ifc")
    first = await check(path, tmp_path / "w1")
    second = await check(path, tmp_path / "w2")
    assert [s.stage for s in first.stages] == list(STAGES)
    assert first.model_sm3 == sm3_hex(path.read_bytes())
    assert first.verdict in ("passed", "failed")
    assert first.canonical() == second.canonical()
    assert first.digest() == second.digest()


async def test_a_stage_over_its_time_limit_is_ended_and_the_later_ones_are_blocked(tmp_path: Path):
    path = small_model(tmp_path / "model.ifc")
    report = await check(path, tmp_path / "w", content={"stage_timeouts_s": {"normative": 0.001}})
    by_stage = {s.stage: s for s in report.stages}
    assert by_stage["normative"].status == "timeout"
    assert "超过" in by_stage["normative"].message
    assert {by_stage[s].status for s in ("tender", "ids")} == {"blocked"}
    assert report.verdict == "failed"


async def test_a_child_that_dies_is_reported_as_crashed_and_the_caller_carries_on(tmp_path: Path):
    path = small_model(tmp_path / "model.ifc")
    report = await check(
        path, tmp_path / "w", memory_bytes=64 * 1024 * 1024
    )  # too small to import the library
    statuses = [s.status for s in report.stages]
    assert statuses.count("crashed") == 1
    crashed = statuses.index("crashed")
    assert set(statuses[crashed + 1 :]) <= {"blocked"}
    assert "异常退出" in report.stages[crashed].message
    assert report.verdict == "failed"


async def test_a_stage_over_its_own_memory_cap_ends_as_crashed_after_the_stages_before_it(tmp_path: Path):
    path = small_model(tmp_path / "model.ifc")
    report = await check(path, tmp_path / "w", content={"stage_memory_bytes": {"normative": 16 * 1024 * 1024}})
    by_stage = {s.stage: s.status for s in report.stages}
    assert by_stage["syntax"] == "passed"
    assert by_stage["normative"] == "crashed"
    assert by_stage["tender"] == by_stage["ids"] == "blocked"


async def test_while_a_stage_is_silent_the_progress_is_repeated_every_heartbeat(tmp_path: Path):
    stream = asyncio.StreamReader()
    beats: list[float] = []

    async def heartbeat() -> None:
        beats.append(time.monotonic())

    async def answer_late() -> None:
        await asyncio.sleep(HEARTBEAT_S * 2.5)
        stream.feed_data(b'{"event": "done"}\n')

    feeder = asyncio.create_task(answer_late())
    line = await _read_line(stream, time.monotonic() + 30, heartbeat)
    await feeder
    assert line == b'{"event": "done"}\n'
    assert len(beats) == 2  # at HEARTBEAT_S and 2 × HEARTBEAT_S (≤ 5 s apart, as the issue asks)
    assert HEARTBEAT_S <= 5
    with pytest.raises(TimeoutError):
        await _read_line(asyncio.StreamReader(), time.monotonic() + 0.2, heartbeat)


async def test_the_worker_hears_of_every_stage_as_it_starts(tmp_path: Path):
    path = small_model(tmp_path / "model.ifc")
    events: list[dict[str, Any]] = []
    await check(path, tmp_path / "w", events)
    started = [e["stage"] for e in events if e.get("percent") == 0.0]
    assert started == [s for s in STAGES if s in started]  # in pipeline order
    assert {"intake", "normative"} <= set(started)
