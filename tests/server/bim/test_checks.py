"""A supplier's model through the whole path: uploaded with a standard tus client to a bid session,
recorded as a check with the session's pinned rule-set version, checked by the real arq worker in a
child process, its progress streamed by the check actor, its report stored as canonical bytes whose
SM3 the check names; and who may see it."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from bim.rules import load_all
from server.security.sm3 import sm3_hex
from server.seed import stable_id
from tests.bim.test_pipeline import small_model
from tests.support.clients import login, next_frame, open_ws
from tests.support.uploads import pdf_bytes, tus_client

WALL_FIRE_RATING_IDS = """<?xml version="1.0" encoding="UTF-8"?>
<ids xmlns="http://standards.buildingsmart.org/IDS" xmlns:xs="http://www.w3.org/2001/XMLSchema"
     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
     xsi:schemaLocation="http://standards.buildingsmart.org/IDS http://standards.buildingsmart.org/IDS/1.0/ids.xsd">
  <info><title>墙体耐火等级</title></info>
  <specifications>
    <specification name="墙体须填写耐火等级" ifcVersion="IFC4">
      <applicability minOccurs="0" maxOccurs="unbounded">
        <entity><name><simpleValue>IFCWALL</simpleValue></name></entity>
      </applicability>
      <requirements>
        <property dataType="IFCLABEL">
          <propertySet><simpleValue>Pset_WallCommon</simpleValue></propertySet>
          <baseName><simpleValue>FireRating</simpleValue></baseName>
        </property>
      </requirements>
    </specification>
  </specifications>
</ids>
"""


async def pinned_bid(as_user: Any, pool: Any, ids_xml: str | None = None) -> str:
    """A new bid session of the demo organiser with the demo expert, and a published rule set pinned."""
    organiser = await as_user("bidadmin")
    created = await organiser.post("/api/v1/bids", json={
        "name": f"模型检查测试 {uuid.uuid4().hex[:6]}", "expert_ids": [str(stable_id("user", "expert"))]})  # fmt: skip
    assert created.status_code == 201, created.text
    bid_id = created.json()["id"]
    content = {"allowed_schemas": ["IFC4"], "rules": {c: {"enabled": True, "params": {}} for c in load_all()},
               "ids": {"name": "测试数据项清单", "xml": ids_xml} if ids_xml else None,
               "max_model_bytes": 200 * 1024 * 1024}  # fmt: skip
    admin = stable_id("user", "admin")
    set_id, version_id = uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO bim_rule_set (id, name, created_by) VALUES ($1, $2, $3)",
                           set_id, f"测试规则集 {set_id}", admin)  # fmt: skip
        await conn.execute(
            "INSERT INTO bim_rule_set_version (id, rule_set_id, version, status, content, content_sm3, created_by,"
            " published_by, published_at) VALUES ($1, $2, 1, 'published', $3, $4, $5, $5, now())",
            version_id, set_id, content, sm3_hex(json.dumps(content, sort_keys=True).encode()), admin,
        )  # fmt: skip
        await conn.execute("UPDATE bid_session SET rule_set_version_id = $1 WHERE id = $2", version_id,
                           uuid.UUID(bid_id))  # fmt: skip
    return str(bid_id)


async def submit(client: httpx.AsyncClient, bid_id: str, data: bytes, name: str) -> str:
    up = tus_client(client).uploader(file_stream=io.BytesIO(data), chunk_size=1024 * 1024,
                                     metadata={"filename": name, "bid": bid_id})  # fmt: skip
    await asyncio.to_thread(up.upload)
    return str(up.url)


async def wait_finished(client: httpx.AsyncClient, check_id: str, timeout: float = 90) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            found = (await client.get(f"/api/v1/bim/checks/{check_id}")).json()
            if found["status"] in ("passed", "failed", "error"):
                return dict(found)
            await asyncio.sleep(0.5)


async def other_supplier(as_user: Any, server: Any) -> httpx.AsyncClient:
    """A designer account of another enterprise (pujiang's), made by the administrator."""
    admin = await as_user("admin")
    login_name = f"rival{uuid.uuid4().hex[:8]}"
    created = await admin.post("/api/v1/admin/users", json={
        "login": login_name, "name": "竞争投标人", "org_id": str(stable_id("org", "91310115MA1K4AB12X")),
        "role": "designer", "password": "Rival-9-password"})  # fmt: skip
    assert created.status_code == 201, created.text
    return await login(server.url, login_name, "Rival-9-password")


async def follow_check(ws: Any) -> dict[str, Any]:
    """The check's state as streamed: the snapshot, then each event, until it has a verdict."""
    state: dict[str, Any] = {}
    progress = 0
    async with asyncio.timeout(90):
        while True:
            frame = await next_frame(ws, timeout=90)
            if frame["type"] == "snapshot":
                state = frame["data"]
            elif frame["type"] == "check.progress":
                progress += 1
            elif frame["type"] == "check.finished":
                return {**state, **frame["data"], "progress_events": progress}
            if state.get("verdict"):
                return {**state, "progress_events": progress}


@pytest.fixture
async def bid(as_user, pool) -> str:
    return await pinned_bid(as_user, pool)


async def test_a_submitted_model_is_checked_by_the_worker_and_its_report_bytes_match_their_sm3(
    as_user, bid, worker, server, tmp_path: Path
):
    supplier = await as_user("huadong")
    model = small_model(tmp_path / "投标模型.ifc").read_bytes()
    await submit(supplier, bid, model, "投标模型.ifc")
    listed = (await supplier.get(f"/api/v1/bids/{bid}/checks")).json()["items"]
    assert len(listed) == 1
    assert listed[0]["blob_sm3"] == sm3_hex(model)
    check_id = listed[0]["id"]
    ws = await open_ws(server.ws_url, f"/ws/bim/checks/{check_id}", supplier)
    try:
        seen = await follow_check(ws)
    finally:
        await ws.close()
    finished = await wait_finished(supplier, check_id)
    assert finished["status"] in ("passed", "failed")
    assert seen["verdict"] == finished["status"] == finished["live"]["verdict"]
    assert finished["live"]["report_sm3"] == finished["report_sm3"]
    report = await supplier.get(f"/api/v1/bim/checks/{check_id}/report")
    assert report.status_code == 200
    assert sm3_hex(report.content) == finished["report_sm3"] == report.headers["x-report-sm3"]
    body = report.json()
    assert body["model_sm3"] == sm3_hex(model)
    assert [s["stage"] for s in body["stages"]][:1] == ["intake"]
    organiser = await as_user("bidadmin")  # the live bid dashboard shows the supplier's check as it ended
    async with asyncio.timeout(20):
        while True:
            shown = (await organiser.get(f"/api/v1/bids/{bid}")).json()["checks"]
            if shown and shown[0]["status"] == finished["status"]:
                break
            await asyncio.sleep(0.2)
    assert shown[0]["check_id"] == check_id
    assert shown[0]["file_name"] == "投标模型.ifc"
    assert shown[0]["errors"] == body["counts"]["errors"]


async def test_only_the_supplier_and_the_bid_sessions_people_see_a_check(
    as_user, bid, worker, server, tmp_path: Path
):
    supplier = await as_user("huadong")
    await submit(supplier, bid, small_model(tmp_path / "m.ifc").read_bytes(), "m.ifc")
    check_id = (await supplier.get(f"/api/v1/bids/{bid}/checks")).json()["items"][0]["id"]
    expert = await as_user("expert")
    assert (await expert.get(f"/api/v1/bim/checks/{check_id}")).status_code == 200
    assert [c["id"] for c in (await expert.get(f"/api/v1/bids/{bid}/checks")).json()["items"]] == [check_id]
    rival = await other_supplier(as_user, server)  # another enterprise's designer: reads checks, not this one
    assert (await rival.get(f"/api/v1/bim/checks/{check_id}")).status_code == 404
    assert (await rival.get(f"/api/v1/bim/checks/{check_id}/report")).status_code == 404
    assert (await rival.get(f"/api/v1/bids/{bid}/checks")).json()["items"] == []
    await rival.aclose()
    outsider = await as_user("shencheng")  # an applicant: no bim.check.read at all
    assert (await outsider.get(f"/api/v1/bim/checks/{check_id}")).status_code == 403


async def test_models_go_only_to_sessions_with_a_pinned_rule_set_and_only_as_ifc(
    as_user, bid, tmp_path: Path
):
    supplier = await as_user("huadong")
    organiser = await as_user("bidadmin")
    bare = (await organiser.post("/api/v1/bids", json={
        "name": "未指定规则集", "expert_ids": [str(stable_id("user", "expert"))]})).json()["id"]  # fmt: skip
    headers = {"Tus-Resumable": "1.0.0", "Upload-Length": "100"}

    def meta(**values: str) -> str:
        return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())

    refused = await supplier.post(
        "/files/", headers={**headers, "Upload-Metadata": meta(filename="a.ifc", bid=bare)}
    )
    assert refused.status_code == 409
    reviewer = await as_user("pujiang")  # an applicant may upload drawings but not submit models
    forbidden = await reviewer.post(
        "/files/", headers={**headers, "Upload-Metadata": meta(filename="a.ifc", bid=bid)}
    )
    assert forbidden.status_code == 403
    pdf = pdf_bytes(5000)
    created = await supplier.post("/files/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(pdf)),
        "Upload-Metadata": meta(filename="a.pdf", bid=bid)})  # fmt: skip
    patch = await supplier.patch(created.headers["location"], content=pdf, headers={
        "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})  # fmt: skip
    assert patch.status_code == 415
    two_gb = await supplier.post("/files/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(2 * 1024**3),
        "Upload-Metadata": meta(filename="大模型.ifc", bid=bid)})  # fmt: skip
    assert two_gb.status_code == 413  # refused before a byte is sent: past the rule set's 200 MB
    assert "200 MB" in two_gb.json()["error"]["message"]
    assert (await supplier.get(f"/api/v1/bids/{bid}/checks")).json()["items"] == []


async def test_the_ids_stage_reports_completeness_with_a_fill_in_list_and_exports(
    as_user, pool, worker, tmp_path
):
    bid_id = await pinned_bid(as_user, pool, WALL_FIRE_RATING_IDS)
    supplier = await as_user("huadong")
    await submit(supplier, bid_id, small_model(tmp_path / "m.ifc").read_bytes(), "m.ifc")  # its wall lacks it
    check_id = (await supplier.get(f"/api/v1/bids/{bid_id}/checks")).json()["items"][0]["id"]
    finished = await wait_finished(supplier, check_id)
    assert finished["status"] == "failed"
    report = (await supplier.get(f"/api/v1/bim/checks/{check_id}/report")).json()
    ids_stage = next(s for s in report["stages"] if s["stage"] == "ids")
    assert ids_stage["status"] == "failed"
    completeness = ids_stage["data"]["completeness"]
    assert [row["name"] for row in completeness["fill_in"]] == ["外墙"]
    assert completeness["fill_in"][0]["storey"] == "一层"
    assert completeness["rates"]["overall"]["element_rate"] == 0
    xlsx = await supplier.get(f"/api/v1/bim/checks/{check_id}/ids.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    again = await supplier.get(f"/api/v1/bim/checks/{check_id}/ids.xlsx")
    assert again.content == xlsx.content  # the same bytes each time
    bcf = await supplier.get(f"/api/v1/bim/checks/{check_id}/ids.bcf")
    assert bcf.status_code == 200
    with zipfile.ZipFile(io.BytesIO(bcf.content)) as archive:
        markup = [n for n in archive.namelist() if n.endswith("markup.bcf")]
        assert len(markup) == 1
        assert completeness["fill_in"][0]["global_id"] in archive.read(markup[0]).decode()
    assert (await supplier.get(f"/api/v1/bim/checks/{check_id}/ids.pdf")).status_code == 404


async def test_a_supplier_finds_the_sessions_that_take_models_with_its_own_submission_counts(
    as_user, bid, worker, tmp_path
):
    supplier = await as_user("huadong")
    organiser = await as_user("bidadmin")
    bare = (await organiser.post("/api/v1/bids", json={
        "name": "未指定规则集的会议", "expert_ids": [str(stable_id("user", "expert"))]})).json()["id"]  # fmt: skip
    await submit(supplier, bid, small_model(tmp_path / "m.ifc").read_bytes(), "m.ifc")
    listed = {b["id"]: b for b in (await supplier.get("/api/v1/bim/bids")).json()["items"]}
    assert bid in listed
    assert bare not in listed  # no rule set pinned: it takes no models
    assert listed[bid]["submitted"] == 1
    page = await supplier.get("/bim/bids")
    assert page.status_code == 200
    assert f'href="/bids/{bid}/models"' in page.text
    assert "提交模型" in page.text  # the header's link for suppliers
    assert (await organiser.get("/api/v1/bim/bids")).status_code == 403  # organisers do not submit
