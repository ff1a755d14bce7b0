"""Form documents through the API of the real server: content as canonical JSON and validation follow
live edits; named versions are listed, viewed read-only and restored as a new edit that connected
editors receive; submissions must validate; only editors save or restore; other enterprises see
nothing."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from pycrdt import Array, Doc, Map, XmlElement, XmlFragment, XmlText

from collab.catalogue import form
from collab.content import content_of
from tests.collab.yclient import YClient, new_document
from tests.support.clients import login
from tests.support.processes import start_server

BIM = form("bim_building")


async def _form_document(client, form_id: str = "bim_building") -> dict[str, Any]:
    return await new_document(client, "建筑信息填报", form_id)


def fill_project(doc: Doc[Any]) -> None:
    doc.get("project", type=Map).update(
        {
            "project_name": "张江科学城人才公寓",
            "construction_unit": "上海浦江置业有限公司",
            "design_unit": "上海市建筑设计研究院",
            "building_category": "住宅建筑",
            "total_area": 40000,
            "height": 60,
            "above_floors": 18,
            "fire_resistance": "一级",
            "design_life": "50年",
        }
    )
    doc.get("structure", type=Map).update(
        {"structure_type": "剪力墙结构", "safety_grade": "二级", "seismic_intensity": "7度"}
    )
    doc.get("units", type=Array).append(Map({"name": "1号楼", "floors": 18, "area": 20000}))


def write_notes(text: str) -> Any:
    def edit(doc: Doc[Any]) -> None:
        notes = doc.get("architecture_notes", type=XmlFragment)
        node = XmlText()
        notes.children.append(XmlElement("paragraph", None, [node]))
        node.insert(0, text)

    return edit


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_content_and_validation_follow_live_edits_at_their_field_paths(server, as_user):
    owner = await as_user("pujiang")
    doc = await _form_document(owner)
    detail = (await owner.get(f"/api/v1/documents/{doc['id']}")).json()
    assert detail["form"]["id"] == "bim_building"
    assert detail["can_edit"] is True
    editor = await YClient.connect(server.ws_url, doc["id"], owner)

    await editor.change(lambda d: d.get("project", type=Map).update({"height": -5, "project_code": "12-34"}))
    await editor.roundtrip()
    report = (await owner.get(f"/api/v1/documents/{doc['id']}/validation")).json()
    codes = {e["path"]: e["code"] for e in report["errors"]}
    assert report["valid"] is False
    assert codes["project.height"] == "too_small"
    assert codes["project.project_code"] == "bad_format"
    assert codes["project.project_name"] == "required"
    assert codes["units"] == "too_few_rows"

    await editor.change(lambda d: (d.get("project", type=Map).pop("project_code"), fill_project(d)))
    await editor.change(write_notes("本工程为二类高层住宅。"))
    await editor.roundtrip()
    report = (await owner.get(f"/api/v1/documents/{doc['id']}/validation")).json()
    assert report == {"valid": True, "errors": []}
    content = (await owner.get(f"/api/v1/documents/{doc['id']}/content")).json()
    assert content["content"] == content_of(editor.doc, BIM)
    assert content["content"]["sections"]["project"]["height"] == 60
    notes = content["content"]["sections"]["architecture_notes"]["content"]
    assert notes == [{"type": "paragraph", "content": [{"type": "text", "text": "本工程为二类高层住宅。"}]}]
    await editor.close()


async def test_a_named_version_is_listed_viewed_read_only_and_restored_as_an_edit_live_editors_receive(
    server, as_user, pool
):
    owner = await as_user("pujiang")
    colleague = await as_user("pujiang_agent")
    doc = await _form_document(owner)
    base = f"/api/v1/documents/{doc['id']}"
    editor = await YClient.connect(server.ws_url, doc["id"], owner)
    watcher = await YClient.connect(server.ws_url, doc["id"], colleague)
    await editor.change(fill_project)
    await editor.change(write_notes("第一稿说明"))
    await editor.roundtrip()
    saved = await owner.post(f"{base}/versions", json={"name": "2026-11-28 初稿"})
    assert saved.status_code == 201, saved.text
    first = saved.json()
    first_content = content_of(editor.doc, BIM)

    await editor.change(
        lambda d: d.get("project", type=Map).update({"height": 99, "design_date": "2026-12-01"})
    )
    await editor.change(write_notes("第二稿追加"))
    await editor.change(
        lambda d: d.get("units", type=Array).append(Map({"name": "2号楼", "floors": 3, "area": 900}))
    )
    await editor.roundtrip()
    second = (await owner.post(f"{base}/versions", json={"name": "修改稿"})).json()
    listed = (await colleague.get(f"{base}/versions")).json()["items"]
    assert [v["name"] for v in listed] == ["修改稿", "2026-11-28 初稿"]
    assert listed[1]["created_by_login"] == "pujiang"
    assert listed[0]["sm3"] != listed[1]["sm3"]

    view = (await colleague.get(f"{base}/versions/{first['id']}")).json()
    assert view["content"] == first_content
    replica: Doc[Any] = Doc()
    replica.apply_update(base64.b64decode(view["update"]))
    assert content_of(replica, BIM) == first_content  # the read-only view's state is the version's

    restored = await owner.post(f"{base}/versions/{first['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["seq"] > second["seq"]
    await watcher.wait_for(lambda: content_of(watcher.doc, BIM) == first_content)
    await editor.wait_for(lambda: content_of(editor.doc, BIM) == first_content)
    now = (await owner.get(f"{base}/content")).json()
    assert now["content"] == first_content
    assert now["sm3"] == first["sm3"]
    again = await owner.post(f"{base}/versions/{first['id']}/restore")
    assert again.json() == {"seq": 0}  # already equal: nothing written
    fresh = await YClient.connect(server.ws_url, doc["id"], owner)
    assert content_of(fresh.doc, BIM) == first_content
    async with pool.acquire() as conn:
        actions = await conn.fetch(
            "SELECT action, actor_login FROM audit_entry WHERE target = $1 ORDER BY seq", f"doc:{doc['id']}"
        )
    assert [(a["action"], a["actor_login"]) for a in actions] == [
        ("doc.create", "pujiang"),
        ("doc.version_save", "pujiang"),
        ("doc.version_save", "pujiang"),
        ("doc.version_restore", "pujiang"),
    ]
    for client in (editor, watcher, fresh):
        await client.close()


async def test_a_submission_is_refused_with_its_errors_while_the_data_does_not_validate(server, as_user):
    owner = await as_user("pujiang")
    doc = await _form_document(owner)
    base = f"/api/v1/documents/{doc['id']}"
    refused = await owner.post(f"{base}/versions", json={"name": "提交", "submit": True})
    assert error_of(refused) == (422, "invalid_document")
    assert {
        "path": "project.project_name",
        "code": "required",
        "message": "请填写工程名称",
    } in refused.json()["error"]["errors"]
    assert (await owner.get(f"{base}/versions")).json()["items"] == []

    editor = await YClient.connect(server.ws_url, doc["id"], owner)
    await editor.change(fill_project)
    await editor.roundtrip()
    submitted = await owner.post(f"{base}/versions", json={"name": "2026-11-28 提交", "submit": True})
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["submitted"] is True
    await editor.close()


async def test_only_editors_save_or_restore_versions_and_other_enterprises_see_nothing(server, as_user):
    owner = await as_user("pujiang")
    reviewer = await as_user("zhujian")  # sees every project, edits no document
    stranger = await as_user("shencheng")  # another enterprise
    doc = await _form_document(owner)
    base = f"/api/v1/documents/{doc['id']}"
    version = (await owner.post(f"{base}/versions", json={"name": "空白"})).json()

    assert (await reviewer.get(f"{base}/versions")).status_code == 200
    assert (await reviewer.get(base)).json()["can_edit"] is False
    assert error_of(await reviewer.post(f"{base}/versions", json={"name": "越权"})) == (403, "forbidden")
    assert error_of(await reviewer.post(f"{base}/versions/{version['id']}/restore")) == (403, "forbidden")
    for path in (
        base,
        f"{base}/content",
        f"{base}/validation",
        f"{base}/versions",
        f"{base}/versions/{version['id']}",
    ):
        assert error_of(await stranger.get(path)) == (404, "not_found"), path
    assert error_of(await stranger.post(f"{base}/versions/{version['id']}/restore")) == (404, "not_found")
    listed = await stranger.get(f"/api/v1/projects/{doc['project_id']}/documents")
    assert error_of(listed) == (404, "not_found")
    assert [
        d["id"] for d in (await owner.get(f"/api/v1/projects/{doc['project_id']}/documents")).json()["items"]
    ] == [doc["id"]]
    assert len((await owner.get(f"{base}/versions")).json()["items"]) == 1


async def test_bad_form_and_version_requests_get_clear_errors_and_change_nothing(server, as_user):
    owner = await as_user("pujiang")
    doc = await _form_document(owner)
    base = f"/api/v1/documents/{doc['id']}"
    other = await _form_document(owner)
    foreign = (
        await owner.post(f"/api/v1/documents/{other['id']}/versions", json={"name": "另一文档"})
    ).json()

    project_id = doc["project_id"]
    unknown_form = await owner.post(
        f"/api/v1/projects/{project_id}/documents", json={"title": "x", "form": "nope"}
    )
    assert error_of(unknown_form) == (404, "unknown_form")
    assert error_of(await owner.post(f"{base}/versions", json={"name": ""})) == (422, "invalid_input")
    assert error_of(await owner.post(f"{base}/versions", json={"name": "x" * 101})) == (422, "invalid_input")
    assert error_of(await owner.post(f"{base}/versions", json={"name": "多余字段", "extra": 1})) == (
        422,
        "invalid_input",
    )
    assert error_of(await owner.get(f"{base}/versions/{foreign['id']}")) == (404, "not_found")
    assert error_of(await owner.post(f"{base}/versions/{foreign['id']}/restore")) == (404, "not_found")
    assert error_of(await owner.post(f"{base}/versions/{uuid.uuid4()}/restore")) == (404, "not_found")
    assert error_of(await owner.get(f"/api/v1/documents/{uuid.uuid4()}")) == (404, "not_found")
    assert (await owner.get(f"{base}/versions")).json()["items"] == []
    forms = (await owner.get("/api/v1/forms")).json()["items"]
    assert {f["id"] for f in forms} >= {"bim_building", "rich_text"}
    assert error_of(await owner.get("/api/v1/forms/nope")) == (404, "unknown_form")


async def test_a_document_keeps_at_most_the_configured_number_of_versions(env, tmp_path):
    server = start_server({**env, "TONGBAN_COLLAB_MAX_VERSIONS": "2"}, tmp_path / "server.log")
    try:
        owner = await login(server.url, "pujiang")
        doc = await _form_document(owner)
        base = f"/api/v1/documents/{doc['id']}"
        for name in ("第一版", "第二版"):
            assert (await owner.post(f"{base}/versions", json={"name": name})).status_code == 201
        refused = await owner.post(f"{base}/versions", json={"name": "第三版"})
        assert error_of(refused) == (409, "conflict")
        assert [v["name"] for v in (await owner.get(f"{base}/versions")).json()["items"]] == [
            "第二版",
            "第一版",
        ]
        await owner.aclose()
    finally:
        server.stop()
