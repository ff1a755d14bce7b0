"""The one form and its signed submission over HTTP (real server, PostgreSQL, Redis): the merged form
follows the project's facts, is prefilled and checked live, the draft is saved with a revision, and a
signed submission becomes one case per applicable item with its department; then three departments and
the applicant move the cases, each only its own. Every bad submission is refused with nothing written."""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from datetime import date
from typing import Any

import pytest

from server.approval.calendar import package_calendar
from tests.server.approval.kaigong import attach_required, ready, signed_submission, values_for


@pytest.fixture
async def key(pool, settings) -> dict[str, Any]:
    return await ready(pool, settings.keys_path, settings.var_path)


async def new_project(client: Any) -> dict[str, Any]:
    code = f"2026-310115-47-01-{secrets.randbelow(10**6):06d}"  # GB/T 40058-2021 structure
    created = await client.post("/api/v1/projects", json={"code": code, "name": "开工一件事测试项目"})
    assert created.status_code == 201, created.text
    return created.json()


async def submit(client: Any, project_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post(
        f"/api/v1/projects/{project_id}/kaigong/applications", json=body, headers=headers
    )


async def test_the_merged_form_follows_the_facts_is_prefilled_checked_live_and_its_draft_keeps_a_revision(
    server, as_user, key
):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    base = f"/api/v1/projects/{project['id']}/kaigong"
    form = (await owner.get(f"{base}/form")).json()
    assert form["values"]["project_code"] == project["code"]  # from the registry
    assert {"project_code", "project_name", "builder_name"} <= set(form["prefilled"])
    assert form["items"] == []  # nothing applies before the facts are known
    assert {f["key"] for f in form["facts"]} >= {"special_construction", "occupies_road"}

    values = values_for(project)
    checked = (await owner.post(f"{base}/form/check", json={"values": values})).json()
    assert [i["code"] for i in checked["items"]] == ["XFSJ", "MFJS", "SGXK", "JLZL", "LSPS"]
    assert checked["errors"] == []
    sgxk = next(i for i in checked["items"] if i["code"] == "SGXK")
    assert (sgxk["predecessors"], sgxk["statutory_workdays"]) == (["XFSJ", "MFJS"], 7)
    fields = {f["key"]: f for f in checked["fields"]}
    assert set(fields["contractor_name"]["items"]) >= {"SGXK", "JLZL", "LSPS"}  # one field, many items
    wrong = {**values, "contact_phone": "12345", "road_work_end_on": "2027-01-01"}
    broken = (await owner.post(f"{base}/form/check", json={"values": wrong})).json()
    assert {e["path"] for e in broken["errors"]} >= {"contact_phone", "road_work_start_on"}  # start after end
    fewer = (
        await owner.post(f"{base}/form/check", json={"values": {**values, "occupies_road": False}})
    ).json()
    assert "JLZL" not in [i["code"] for i in fewer["items"]]

    registry = {"planning": {"planning_permit_no": "沪规建（2026）第 0999 号", "total_area": 42000}}
    await owner.put(f"/api/v1/projects/{project['id']}/data", json={"sections": registry, "revision": 0})
    prefilled = (await owner.get(f"{base}/form")).json()  # the registry's 规划 data fills the form's fields
    assert prefilled["values"]["planning_permit_no"] == "沪规建（2026）第 0999 号"
    assert {"planning_permit_no", "total_area"} <= set(prefilled["prefilled"])
    saved = await owner.put(f"{base}/draft", json={"values": values, "revision": 0})
    assert saved.json() == {"revision": 1}
    stale = await owner.put(f"{base}/draft", json={"values": {}, "revision": 0})
    assert stale.status_code == 409
    again = (await owner.get(f"{base}/form")).json()
    assert (again["draft_revision"], again["values"]["road_name"]) == (1, "张江路")
    other = await as_user("shencheng")
    assert (await other.get(f"{base}/form")).status_code == 404


async def test_a_signed_submission_opens_a_case_per_item_and_departments_and_applicant_move_them(
    server, as_user, key, pool
):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    base = f"/api/v1/projects/{project['id']}/kaigong"
    values = values_for(project)
    form = (await owner.post(f"{base}/form/check", json={"values": values})).json()
    attached = await attach_required(owner, project["id"], form)
    body = signed_submission(form, project["id"], values, key, attached)
    idempotency = uuid.uuid4().hex
    first = await submit(owner, project["id"], body, idempotency)
    assert first.status_code == 201, first.text
    cases = {c["item_code"]: c for c in first.json()["cases"]}
    assert set(cases) == {"XFSJ", "MFJS", "SGXK", "JLZL", "LSPS"}
    assert {c["dept_name"] for c in cases.values()} >= {
        "上海市住房和城乡建设管理委员会",
        "上海市水务局",
        "上海市交通委员会",
    }
    assert cases["SGXK"]["predecessors"] == ["XFSJ", "MFJS"]
    assert re.fullmatch(r"LS\d{6}\d{6}", first.json()["lianshen_no"])  # 联审编号, given at submission
    assert first.json()["baojian_no"] == project["baojian_no"]
    replay = await submit(owner, project["id"], body, idempotency)
    assert replay.status_code == 201
    assert {c["id"] for c in replay.json()["cases"]} == {c["id"] for c in cases.values()}
    async with pool.acquire() as conn:
        count = await conn.fetchval("SELECT count(*) FROM approval_application WHERE project_id = $1",
                                    uuid.UUID(project["id"]))  # fmt: skip
    assert count == 1

    water, roads, housing = [await as_user(n) for n in ("shuiwu", "jiaotong", "zhujian")]
    queue = (await water.get("/api/v1/kaigong/queue")).json()["items"]
    assert cases["LSPS"]["id"] in {q["id"] for q in queue}
    assert all(q["item_code"] == "LSPS" for q in queue if q["project_id"] == project["id"])
    part = (await water.get(f"/api/v1/kaigong/cases/{cases['LSPS']['id']}/form")).json()
    keys = {f["key"] for f in part["fields"]}
    assert {"drainage_outlet_location", "drainage_flow_m3_per_day", "contractor_name"} <= keys
    assert not keys & {"road_name", "air_defence_class"}  # other departments' fields stay with them
    assert part["signature"]["valid"] is True
    assert {f["key"]: f["value"] for f in part["fields"]}["drainage_flow_m3_per_day"] == 200
    assert (await roads.get(f"/api/v1/kaigong/cases/{cases['LSPS']['id']}/form")).status_code == 403
    act = "/api/v1/kaigong/cases/{}/department-actions"
    assert (await roads.post(act.format(cases["LSPS"]["id"]), json={"action": "accept"})).status_code == 403
    assert (await water.post(act.format(cases["LSPS"]["id"]), json={"action": "accept"})).status_code == 200
    needs_reason = await water.post(act.format(cases["LSPS"]["id"]), json={"action": "request_correction"})
    assert needs_reason.status_code == 422
    corrected = await water.post(act.format(cases["LSPS"]["id"]),
                                 json={"action": "request_correction", "reason": "请补充排水口位置图"})  # fmt: skip
    lsps = next(c for c in corrected.json()["cases"] if c["item_code"] == "LSPS")
    assert (lsps["state"], lsps["deadline_state"]) == ("correction", "paused")
    notices = (await owner.get("/api/v1/kaigong/notices")).json()["items"]
    assert any("请补充排水口位置图" in n["message"] for n in notices)
    resubmitted = await owner.post(f"/api/v1/kaigong/cases/{cases['LSPS']['id']}/applicant-actions",
                                   json={"action": "resubmit"})  # fmt: skip
    assert resubmitted.status_code == 200
    assert (await water.post(act.format(cases["LSPS"]["id"]), json={"action": "approve"})).status_code == 200
    assert (await roads.post(act.format(cases["JLZL"]["id"]), json={"action": "approve"})).status_code == 409
    for action in ("accept", "start_review"):
        assert (
            await housing.post(act.format(cases["SGXK"]["id"]), json={"action": action})
        ).status_code == 200
    blocked = await housing.post(act.format(cases["SGXK"]["id"]), json={"action": "approve"})
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (409, "predecessors_open")
    archive = {
        s["stage"]: s["entries"]
        for s in (await owner.get(f"/api/v1/projects/{project['id']}/archive")).json()["stages"]
    }
    kinds = [e["kind"] for e in archive["施工许可"]]
    assert kinds == ["application", "decision"]  # the signed application, then 水务's decision
    assert archive["施工许可"][0]["sm3"] is not None
    progress = (await owner.get(f"{base}")).json()
    assert progress["bundle_state"] == "in_progress"
    assert {c["item_code"]: c["state"] for c in progress["cases"]}["LSPS"] == "approved"


async def test_bad_submissions_are_refused_and_write_nothing(server, as_user, key, pool):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    base = f"/api/v1/projects/{project['id']}/kaigong"
    values = values_for(project)
    form = (await owner.post(f"{base}/form/check", json={"values": values})).json()
    attached = await attach_required(owner, project["id"], form)
    good = signed_submission(form, project["id"], values, key, attached)

    payload = json.loads(base64.b64decode(good["signed"]))
    payload["values"]["contract_price_wan"] = 1  # changed after signing
    tampered = {**good, "signed": base64.b64encode(json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                                                separators=(",", ":")).encode()).decode()}  # fmt: skip
    answer = await submit(owner, project["id"], tampered)
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "signature_invalid")

    invalid_values = {**values, "contact_phone": "12345"}
    answer = await submit(
        owner, project["id"], signed_submission(form, project["id"], invalid_values, key, attached)
    )
    assert answer.status_code == 422
    assert "contact_phone" in {f["field"] for f in answer.json()["error"]["fields"]}

    fewer_items = {**form, "items": form["items"][:2]}  # signed for items that are not the applicable ones
    answer = await submit(
        owner, project["id"], signed_submission(fewer_items, project["id"], values, key, attached)
    )
    assert (answer.status_code, answer.json()["error"]["fields"][0]["field"]) == (422, "signed.items")

    other_project = await new_project(owner)  # a signature for another project
    answer = await submit(owner, other_project["id"], good)
    assert answer.status_code == 422
    no_key = await owner.post(f"{base}/applications", json=good)
    assert no_key.status_code == 422
    garbage = await submit(owner, project["id"], {**good, "signature": "not base64!"})
    assert garbage.status_code == 422
    stranger = await as_user("shencheng")
    assert (await submit(stranger, project["id"], good)).status_code == 404
    async with pool.acquire() as conn:
        count = await conn.fetchval("SELECT count(*) FROM approval_application WHERE project_id = ANY($1)",
                                    [uuid.UUID(project["id"]), uuid.UUID(other_project["id"])])  # fmt: skip
    assert count == 0


async def test_only_an_approver_of_the_department_extends_a_case_and_the_due_date_moves_by_those_working_days(
    server, as_user, key
):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    values = values_for(project)
    form = (
        await owner.post(f"/api/v1/projects/{project['id']}/kaigong/form/check", json={"values": values})
    ).json()
    attached = await attach_required(owner, project["id"], form)
    submitted = await submit(
        owner, project["id"], signed_submission(form, project["id"], values, key, attached)
    )
    cases = {c["item_code"]: c for c in submitted.json()["cases"]}
    case = cases["XFSJ"]["id"]
    reviewer, lead, roads = [await as_user(n) for n in ("zhujian", "zhujian_lead", "jiaotong")]
    accepted = await reviewer.post(
        f"/api/v1/kaigong/cases/{case}/department-actions", json={"action": "accept"}
    )
    due = next(c for c in accepted.json()["cases"] if c["id"] == case)["due_on"]
    body = {"days": 5, "reason": "需组织专家评审，经负责人批准延期"}
    assert (await reviewer.post(f"/api/v1/kaigong/cases/{case}/extensions", json=body)).status_code == 403
    assert (await roads.post(f"/api/v1/kaigong/cases/{case}/extensions", json=body)).status_code == 403
    assert (
        await lead.post(f"/api/v1/kaigong/cases/{case}/extensions", json={**body, "days": 0})
    ).status_code == 422
    extended = await lead.post(f"/api/v1/kaigong/cases/{case}/extensions", json=body)
    assert extended.status_code == 200, extended.text
    after = next(c for c in extended.json()["cases"] if c["id"] == case)
    assert after["due_on"] == package_calendar().add_workdays(date.fromisoformat(due), 5).isoformat()
    assert after["extensions"][0]["days"] == 5
    notices = (await owner.get("/api/v1/kaigong/notices")).json()["items"]
    assert any("延长 5 个工作日" in n["message"] for n in notices)
