"""The item catalogue through the HTTP API of the real server: anyone reads the published version and
asks for a project's merged form (with the errors of what was typed); administrators list versions,
start a draft, save it with the revision they started from (a stale one: 409; bad content: 422 naming
each problem by its path, nothing stored) and publish it, after which it is what the public sees and
can no longer change; others are refused. And the administration page."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from server.approval import catalogue_service as service
from server.audit.service import AUDIT_KEY
from server.keystore import KeyRing
from server.security.sm3 import sm3_hex
from server.seed import stable_id

PUBLIC = "/api/v1/approval/catalogue"
ADMIN = "/api/v1/admin/approval/catalogue"

FACTS = {
    "project_type": "房建", "total_area": 52000, "investment_wan": 80000, "pit_depth_m": 12,
    "special_construction": True, "occupies_road": True,
}  # fmt: skip


@pytest.fixture
async def published(pool: Any, settings: Any) -> str:
    """The demo catalogue, seeded as `tongban seed` does (once; later runs change nothing)."""
    key = KeyRing(settings.keys_path).key(AUDIT_KEY)
    version_id = await service.seed_catalogue(pool, key, stable_id("user", "admin"))
    return str(version_id)


async def draft_of(admin: httpx.AsyncClient) -> dict[str, Any]:
    """The catalogue's draft: the existing one, or a new one copied from the latest published version."""
    listing = (await admin.get(f"{ADMIN}/versions")).json()
    if listing["draft_id"]:
        response = await admin.get(f"{ADMIN}/versions/{listing['draft_id']}")
    else:
        response = await admin.post(f"{ADMIN}/drafts", json={})
        assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def save(
    admin: httpx.AsyncClient, draft: dict[str, Any], content: Any, revision: int | None = None
) -> httpx.Response:
    body = {"content": content, "expected_revision": revision or draft["revision"], "summary": "测试修改"}
    return await admin.put(f"{ADMIN}/versions/{draft['id']}", json=body)


async def test_anyone_reads_the_published_catalogue_with_its_sm3_without_logging_in(anonymous, published):
    response = await anonymous.get(PUBLIC)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == service.CATALOGUE_NAME
    assert body["content_sm3"] == sm3_hex(service.canonical_bytes(body["content"]))
    assert {i["code"] for i in body["content"]["items"]} >= {"SGXK", "XFSJ", "JLZL", "LSPS"}
    first = (await anonymous.get(PUBLIC, params={"version": 1})).json()
    assert (first["version"], first["version_id"]) == (1, published)


async def test_a_version_number_that_was_never_published_is_not_found(anonymous, published):
    response = await anonymous.get(PUBLIC, params={"version": 999999})
    assert response.status_code == 404
    assert (await anonymous.get(PUBLIC, params={"version": "一"})).status_code == 422


async def test_the_public_form_lists_the_applicable_items_fields_with_provenance_and_materials(
    anonymous, published
):
    response = await anonymous.post(f"{PUBLIC}/form", json={"facts": FACTS, "values": {}})
    assert response.status_code == 200, response.text
    form = response.json()
    codes = [i["code"] for i in form["items"]]
    assert set(codes) == {"XFSJ", "SGXK", "JLZL", "LSPS"}
    assert codes.index("XFSJ") < codes.index("SGXK")
    permit = next(i for i in form["items"] if i["code"] == "SGXK")
    assert (permit["statutory_workdays"], permit["dept_code"], permit["predecessors"]) == (
        7,
        "DEPT-ZJW",
        ["XFSJ"],
    )
    fields = {f["key"]: f for f in form["fields"]}
    assert len(fields) == len(form["fields"])
    assert set(fields["project_code"]["items"]) == set(codes)
    assert fields["project_code"]["source"] == "project"
    assert fields["project_code"]["required"]
    assert "SG08" in {m["code"] for m in form["materials"]}  # the 12 m pit's expert review
    assert {e["field"] for e in form["errors"]} == {k for k, f in fields.items() if f["required"]}


async def test_the_public_form_reports_each_typed_value_error_at_its_field(anonymous, published):
    values = {"contact_phone": "12345", "total_area": 100, "above_ground_area": 60, "below_ground_area": 30,
              "planned_start_on": "2026-12-01", "road_work_start_on": "2026-11-01"}  # fmt: skip
    form = (await anonymous.post(f"{PUBLIC}/form", json={"facts": FACTS, "values": values})).json()
    errors = {(e["field"], e["type"]) for e in form["errors"]}
    assert ("contact_phone", "bad_format") in errors
    assert ("total_area", "sum_mismatch") in errors
    assert ("road_work_start_on", "compare_failed") in errors  # 掘路 before the permit's planned start
    assert all(e["message"] for e in form["errors"])


async def test_a_malformed_form_request_is_refused(anonymous, published):
    response = await anonymous.post(f"{PUBLIC}/form", json={"facts": {"total_area": [1]}})
    assert response.status_code == 422
    response = await anonymous.post(f"{PUBLIC}/form", json={"facts": {}, "bundle": "wangong"})
    assert response.status_code == 422


async def test_only_administrators_reach_the_admin_api(as_user, anonymous, published):
    applicant = await as_user("pujiang")
    reviewer = await as_user("zhujian")
    for client in (applicant, reviewer):
        assert (await client.get(f"{ADMIN}/versions")).status_code == 403
        assert (await client.post(f"{ADMIN}/drafts", json={})).status_code == 403
    assert (await anonymous.get(f"{ADMIN}/versions")).status_code == 401
    admin = await as_user("admin")
    listing = (await admin.get(f"{ADMIN}/versions")).json()
    assert listing["name"] == service.CATALOGUE_NAME
    assert listing["latest_published"] >= 1
    draft = await draft_of(admin)
    assert (await applicant.put(f"{ADMIN}/versions/{draft['id']}", json={
        "content": draft["content"], "expected_revision": draft["revision"]})).status_code == 403  # fmt: skip
    assert (await applicant.post(f"{ADMIN}/versions/{draft['id']}/publish", json={
        "expected_revision": draft["revision"]})).status_code == 403  # fmt: skip


async def test_a_second_draft_while_one_is_open_is_a_conflict(as_user, published):
    admin = await as_user("admin")
    await draft_of(admin)
    response = await admin.post(f"{ADMIN}/drafts", json={})
    assert response.status_code == 409


async def test_a_draft_with_a_predecessor_cycle_is_refused_with_its_path_and_nothing_is_stored(
    as_user, published
):
    admin = await as_user("admin")
    draft = await draft_of(admin)
    content = json.loads(json.dumps(draft["content"]))
    fire = next(i for i, item in enumerate(content["items"]) if item["code"] == "XFSJ")
    content["items"][fire]["predecessors"] = ["SGXK"]
    content["items"][0]["committed_workdays"] = 999
    response = await save(admin, draft, content)
    assert response.status_code == 422, response.text
    fields = {(f["field"], f["type"]): f["message"] for f in response.json()["error"]["fields"]}
    assert "XFSJ → SGXK → XFSJ" in fields[(f"items.{fire}.predecessors", "predecessor_cycle")]
    assert ("items.0.committed_workdays", "bad_limit") in fields
    after = (await admin.get(f"{ADMIN}/versions/{draft['id']}")).json()
    assert (after["revision"], after["content"]) == (draft["revision"], draft["content"])


async def test_content_that_is_not_an_object_is_refused_before_the_checks(as_user, published):
    admin = await as_user("admin")
    draft = await draft_of(admin)
    response = await save(admin, draft, ["not", "an", "object"])
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "content"


async def test_a_save_on_a_stale_revision_is_a_conflict_and_keeps_the_newer_save(as_user, published):
    admin = await as_user("admin")
    draft = await draft_of(admin)
    content = json.loads(json.dumps(draft["content"]))
    content["title"] = "上海市建设项目开工“一件事”事项目录（2026版·修订）"
    first = await save(admin, draft, content)
    assert first.status_code == 200, first.text
    assert first.json()["revision"] == draft["revision"] + 1
    stale = await save(admin, draft, draft["content"], revision=draft["revision"])
    assert stale.status_code == 409
    assert stale.json()["error"]["revision"] == draft["revision"] + 1
    after = (await admin.get(f"{ADMIN}/versions/{draft['id']}")).json()
    assert after["content"]["title"] == content["title"]


async def test_publishing_makes_the_draft_the_public_version_and_it_can_no_longer_change(
    as_user, anonymous, published
):
    admin = await as_user("admin")
    draft = await draft_of(admin)
    stale = await admin.post(
        f"{ADMIN}/versions/{draft['id']}/publish", json={"expected_revision": draft["revision"] + 5}
    )
    assert stale.status_code == 409
    response = await admin.post(
        f"{ADMIN}/versions/{draft['id']}/publish",
        json={"expected_revision": draft["revision"], "summary": "测试发布"},
    )
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["status"], done["summary"]) == ("published", "测试发布")
    public = (await anonymous.get(PUBLIC)).json()
    assert (public["version_id"], public["content_sm3"]) == (draft["id"], done["content_sm3"])
    assert (await save(admin, done, done["content"])).status_code == 409
    again = await admin.post(
        f"{ADMIN}/versions/{draft['id']}/publish", json={"expected_revision": done["revision"]}
    )
    assert again.status_code == 409
    listing = (await admin.get(f"{ADMIN}/versions")).json()
    assert listing["draft_id"] is None
    assert listing["latest_published"] == done["version"]


async def test_an_unknown_version_is_not_found(as_user, published):
    admin = await as_user("admin")
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await admin.get(f"{ADMIN}/versions/{missing}")).status_code == 404
    response = await admin.post(f"{ADMIN}/versions/{missing}/publish", json={"expected_revision": 1})
    assert response.status_code == 404


async def test_the_admin_page_shows_the_versions_and_the_draft_editor(as_user, published):
    admin = await as_user("admin")
    draft = await draft_of(admin)
    page = await admin.get("/admin/approval/catalogue")
    assert page.status_code == 200
    assert 'id="versions"' in page.text
    assert 'id="save-form"' in page.text
    assert f'data-version-id="{draft["id"]}"' in page.text
    assert "建筑工程施工许可证核发" in page.text
    listing = (await admin.get(f"{ADMIN}/versions")).json()
    published_id = next(v["id"] for v in listing["items"] if v["status"] == "published")
    read_only = await admin.get("/admin/approval/catalogue", params={"version": published_id})
    assert 'id="read-only-note"' in read_only.text
    assert 'id="save-form"' not in read_only.text


async def test_the_admin_page_is_refused_to_others(as_user, published):
    applicant = await as_user("pujiang")
    assert (await applicant.get("/admin/approval/catalogue")).status_code == 403
