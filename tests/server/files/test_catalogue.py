"""The drawings register through the HTTP API: buildings, batch catalogue import, the paged search that
keeps its query, one entry with its versions, and who may read or change a project's drawings."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from server.seed import stable_id
from tests.conftest import unique_code
from tests.support.uploads import pdf_bytes, upload_version

ZJW = str(stable_id("org", "DEPT-ZJW"))


async def _project(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/v1/projects", json={"code": unique_code(), "name": "图纸目录测试项目"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _building(client: httpx.AsyncClient, project_id: str, name: str, code: str = "") -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/projects/{project_id}/buildings", json={"name": name, "code": code}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _import(
    client: httpx.AsyncClient, project_id: str, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    response = await client.post(f"/api/v1/projects/{project_id}/drawings", json={"entries": entries})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _entry(
    building_id: str, number: str, title: str, discipline: str = "建筑", kind: str = "construction"
) -> dict:
    return {
        "building_id": building_id,
        "kind": kind,
        "discipline": discipline,
        "number": number,
        "title": title,
    }


async def test_an_owner_adds_buildings_and_imports_a_catalogue_that_reimports_without_change(as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    one = await _building(owner, project_id, "1号楼", "B1")
    assert (one["name"], one["code"], one["drawings"], one["project_id"]) == ("1号楼", "B1", 0, project_id)
    again = await owner.post(f"/api/v1/projects/{project_id}/buildings", json={"name": "1号楼"})
    assert again.status_code == 409
    assert "已存在" in again.json()["error"]["message"]

    entries = [
        _entry(one["id"], "建施-01", "一层平面图"),
        _entry(one["id"], "结施-01", "基础平面图", "结构"),
        _entry(one["id"], "竣建-01", "一层平面竣工图", kind="as_built"),
    ]
    first = await _import(owner, project_id, entries)
    assert [d["number"] for d in first] == ["建施-01", "结施-01", "竣建-01"]  # the order given
    assert [d["kind_label"] for d in first] == ["施工图", "施工图", "竣工图"]
    assert all(d["latest_version"] == 0 and d["latest"] is None for d in first)
    assert {d["building_name"] for d in first} == {"1号楼"}

    second = await _import(owner, project_id, entries)
    assert [d["id"] for d in second] == [d["id"] for d in first]  # idempotent: same entries
    renamed = await _import(owner, project_id, [_entry(one["id"], "建施-01", "一层平面图（修改）")])
    assert (renamed[0]["id"], renamed[0]["title"]) == (first[0]["id"], "一层平面图（修改）")

    listed = await owner.get(f"/api/v1/projects/{project_id}/buildings")
    assert listed.status_code == 200
    assert [(b["name"], b["drawings"]) for b in listed.json()["items"]] == [("1号楼", 3)]


async def test_a_later_duplicate_in_one_batch_wins_and_a_building_of_another_project_is_refused(as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    other_project = await _project(owner)
    mine = await _building(owner, project_id, "A座")
    theirs = await _building(owner, other_project, "B座")
    items = await _import(
        owner, project_id, [_entry(mine["id"], "建施-01", "旧名"), _entry(mine["id"], "建施-01", "新名")]
    )
    assert [(d["number"], d["title"]) for d in items] == [("建施-01", "新名")]

    refused = await owner.post(
        f"/api/v1/projects/{project_id}/drawings",
        json={"entries": [_entry(mine["id"], "建施-02", "图"), _entry(theirs["id"], "建施-03", "图")]},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "entries.1.building_id"
    unknown = await owner.post(
        f"/api/v1/projects/{project_id}/drawings",
        json={"entries": [_entry(str(uuid.uuid4()), "建施-04", "图")]},
    )
    assert unknown.status_code == 422
    page = await owner.get(f"/api/v1/projects/{project_id}/drawings")
    assert page.json()["total"] == 1  # nothing of a refused batch was written


async def test_paging_keeps_the_query_and_page_three_of_twenty_five_matches_has_five(as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    building = await _building(owner, project_id, "2号楼")
    matching = [_entry(building["id"], f"暖施-{i:02d}", f"通风平面图{i}", "暖通") for i in range(25)]
    others = [_entry(building["id"], f"建施-{i:02d}", f"建筑平面图{i}") for i in range(10)]
    await _import(owner, project_id, matching + others)

    url = f"/api/v1/projects/{project_id}/drawings"
    seen: list[str] = []
    for page in (1, 2, 3):
        response = await owner.get(url, params={"q": "通风", "page": page})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["page"], body["pages"], body["total"], body["page_size"]) == (page, 3, 25, 10)
        assert body["query"] == {
            "q": "通风",
            "building_id": None,
            "discipline": None,
            "kind": None,
            "version": None,
        }
        assert all("通风" in d["title"] for d in body["items"])
        seen += [d["number"] for d in body["items"]]
    assert len(body["items"]) == 5
    assert seen == sorted(f"暖施-{i:02d}" for i in range(25))  # catalogue order, each once

    past = (await owner.get(url, params={"q": "通风", "page": 4})).json()
    assert (past["items"], past["total"], past["page"]) == ([], 25, 4)  # past the end: empty, not an error
    everything = (await owner.get(url)).json()
    assert (everything["total"], everything["pages"], len(everything["items"])) == (35, 4, 10)
    filtered = (
        await owner.get(
            url, params={"discipline": "暖通", "building_id": building["id"], "kind": "construction"}
        )
    ).json()
    assert filtered["total"] == 25
    assert filtered["query"]["building_id"] == building["id"]
    assert (await owner.get(url, params={"kind": "as_built"})).json()["total"] == 0
    blank = (await owner.get(url, params={"q": "", "building_id": "", "kind": ""})).json()  # an empty form
    assert blank["total"] == 35


async def test_search_matches_number_title_discipline_and_building_with_wildcards_taken_literally(as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    a = await _building(owner, project_id, "地下车库")
    b = await _building(owner, project_id, "Tower_B")
    await _import(owner, project_id, [
        _entry(a["id"], "建施-01", "车库平面图"),
        _entry(a["id"], "电施-01", "配电系统图", "电气"),
        _entry(b["id"], "建施-01", "完成度100%说明"),
        _entry(b["id"], "ABC-1", "立面图"),
    ])  # fmt: skip
    url = f"/api/v1/projects/{project_id}/drawings"

    async def numbers(**params: Any) -> list[tuple[str, str]]:
        body = (await owner.get(url, params=params)).json()
        return [(d["building_name"], d["number"]) for d in body["items"]]

    assert await numbers(q="电施") == [("地下车库", "电施-01")]  # number
    assert await numbers(q="配电") == [("地下车库", "电施-01")]  # title
    assert await numbers(q="电气") == [("地下车库", "电施-01")]  # discipline
    assert await numbers(q="地下") == [("地下车库", "建施-01"), ("地下车库", "电施-01")]  # building
    assert await numbers(q="abc") == [("Tower_B", "ABC-1")]  # case-insensitive
    assert await numbers(q="100%") == [("Tower_B", "建施-01")]
    assert await numbers(q="%") == [("Tower_B", "建施-01")]  # % is a character, not "anything"
    assert len(await numbers(q="_")) == 2  # only Tower_B's, not every entry


async def test_an_entry_shows_its_versions_newest_first_and_the_version_filter_finds_it(as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    building = await _building(owner, project_id, "3号楼")
    first, second = await _import(
        owner,
        project_id,
        [_entry(building["id"], "建施-01", "总平面图"), _entry(building["id"], "建施-02", "立面图")],
    )
    await upload_version(owner, first["id"], pdf_bytes(3000, seed=1), "总平面图.pdf")
    await upload_version(owner, first["id"], pdf_bytes(5000, seed=2), "总平面图-修改.pdf")
    await upload_version(owner, second["id"], pdf_bytes(1000, seed=3), "立面图.pdf")

    detail = await owner.get(f"/api/v1/drawings/{first['id']}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert [v["version"] for v in body["versions"]] == [2, 1]
    assert [v["size"] for v in body["versions"]] == [5000, 3000]
    assert body["versions"][0]["uploaded_by"] == "pujiang"
    assert body["versions"][0]["media_type"] == "application/pdf"
    assert (body["latest_version"], body["latest"]["file_name"]) == (2, "总平面图-修改.pdf")

    url = f"/api/v1/projects/{project_id}/drawings"
    v2 = (await owner.get(url, params={"version": 2})).json()
    assert ([d["number"] for d in v2["items"]], v2["query"]["version"]) == (["建施-01"], 2)
    assert len((await owner.get(url, params={"version": 1})).json()["items"]) == 2
    assert (await owner.get(url, params={"version": 3})).json()["total"] == 0


async def test_reviewers_read_only_when_the_approval_was_dispatched_to_their_department(as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    building = await _building(owner, project_id, "1号楼")
    [entry] = await _import(owner, project_id, [_entry(building["id"], "建施-01", "平面图")])
    reviewer, other_dept = await as_user("zhujian"), await as_user("xiaofang")
    paths = [f"/api/v1/projects/{project_id}/buildings", f"/api/v1/projects/{project_id}/drawings",
             f"/api/v1/drawings/{entry['id']}"]  # fmt: skip
    for path in paths:
        assert (await reviewer.get(path)).status_code == 404, path  # not dispatched yet

    dispatched = await owner.post(
        f"/api/v1/projects/{project_id}/approval",
        json={"tasks": [{"dept_org_id": ZJW, "item": "施工许可", "limit_workdays": 5}]},
    )
    assert dispatched.status_code == 200, dispatched.text
    for path in paths:
        assert (await reviewer.get(path)).status_code == 200, path
        assert (await other_dept.get(path)).status_code == 404, path
    refused = await reviewer.post(f"/api/v1/projects/{project_id}/buildings", json={"name": "2号楼"})
    assert refused.status_code == 403  # reviewers hold no drawing.upload


async def test_another_enterprise_sees_nothing_and_an_administrator_reads_but_may_not_change(as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    building = await _building(owner, project_id, "1号楼")
    [entry] = await _import(owner, project_id, [_entry(building["id"], "建施-01", "平面图")])
    stranger, designer, admin = await as_user("shencheng"), await as_user("huadong"), await as_user("admin")
    paths = [f"/api/v1/projects/{project_id}/buildings", f"/api/v1/projects/{project_id}/drawings",
             f"/api/v1/drawings/{entry['id']}"]  # fmt: skip
    for path in paths:
        assert (await stranger.get(path)).status_code == 404, path
        assert (await admin.get(path)).status_code == 200, path
    for client in (stranger, designer):
        created = await client.post(f"/api/v1/projects/{project_id}/buildings", json={"name": "别人的楼"})
        assert created.status_code == 404  # cannot even learn the project exists
        imported = await client.post(
            f"/api/v1/projects/{project_id}/drawings", json={"entries": [_entry(building["id"], "X-1", "图")]}
        )
        assert imported.status_code == 404
    by_admin = await admin.post(f"/api/v1/projects/{project_id}/buildings", json={"name": "管理员的楼"})
    assert by_admin.status_code == 403  # reads every project's drawings, changes none
    colleague = await as_user("pujiang_agent")  # the same enterprise
    assert (
        await colleague.post(f"/api/v1/projects/{project_id}/buildings", json={"name": "4号楼"})
    ).status_code == 201


async def test_bad_input_is_refused_with_422_or_404_and_nothing_is_written(as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    building = await _building(owner, project_id, "1号楼")
    url = f"/api/v1/projects/{project_id}/drawings"
    for params in ({"page": 0}, {"page": "x"}, {"building_id": "not-a-uuid"}, {"kind": "draft"}, {"version": 0},
                   {"q": "x" * 101}, {"q": "a\x00b"}, {"unknown": "1"}):  # fmt: skip
        response = await owner.get(url, params=params)
        assert response.status_code == 422, (params, response.text)
    assert (await owner.get("/api/v1/projects/not-a-uuid/drawings")).status_code == 404
    assert (await owner.get(f"/api/v1/projects/{uuid.uuid4()}/drawings")).status_code == 404
    assert (await owner.get("/api/v1/drawings/123")).status_code == 404
    assert (await owner.get(f"/api/v1/drawings/{uuid.uuid4()}")).status_code == 404

    too_many = [_entry(building["id"], f"建施-{i}", "图") for i in range(1001)]
    bad_bodies = [
        {"entries": too_many},
        {"entries": []},
        {"entries": [_entry(building["id"], "建施-01", "一层\n平面图")]},  # control characters in a line
        {"entries": [_entry(building["id"], "建施-01", "一层\t平面图")]},
        {"entries": [_entry(building["id"], "建施\x00-01", "平面图")]},
        {"entries": [_entry(building["id"], "", "平面图")]},
        {"entries": [_entry(building["id"], "建施-01", "平面图", kind="draft")]},
        {"entries": [{**_entry(building["id"], "建施-01", "平面图"), "extra": 1}]},
        {"entries": [_entry("not-a-uuid", "建施-01", "平面图")]},
    ]
    for body in bad_bodies:
        response = await owner.post(url, json=body)
        assert response.status_code == 422, (str(body)[:80], response.text)
    for body in (
        {"name": ""},
        {"name": "x" * 101},
        {"name": "1号\n楼"},
        {"name": "楼", "code": "c" * 51},
        {},
    ):
        response = await owner.post(f"/api/v1/projects/{project_id}/buildings", json=body)
        assert response.status_code == 422, (body, response.text)
    assert (await owner.get(url)).json()["total"] == 0
    listed = (await owner.get(f"/api/v1/projects/{project_id}/buildings")).json()["items"]
    assert [b["name"] for b in listed] == ["1号楼"]
