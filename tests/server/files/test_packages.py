"""Package downloads (打包下载): the latest version of every selected entry in one zip, streamed as it
is built, named by building, kind, number, title and version; bounded in size of selection, audited,
and only for those who may read the project."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from typing import Any

import httpx
import pytest

from server.errors import PayloadTooLarge
from server.files.packages import check_limit, member_names
from server.security.sm3 import sm3_hex
from server.seed import stable_id
from tests.conftest import unique_code
from tests.support.uploads import pdf_bytes, upload_version

ZJW = str(stable_id("org", "DEPT-ZJW"))


async def _make(owner: httpx.AsyncClient) -> dict[str, Any]:
    """Two buildings; 1号楼: 建施-01 (2 versions), 建施-02 (none), 竣建-01 as-built; 2号楼: 结施-01, 结施-02."""
    project = (
        await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "打包/测试项目"})
    ).json()
    pid = project["id"]
    one = (await owner.post(f"/api/v1/projects/{pid}/buildings", json={"name": "1号楼"})).json()
    two = (await owner.post(f"/api/v1/projects/{pid}/buildings", json={"name": "2号楼"})).json()
    entries = [
        {"building_id": one["id"], "discipline": "建筑", "number": "建施-01", "title": "一层平面图"},
        {"building_id": one["id"], "discipline": "建筑", "number": "建施-02", "title": "二层平面图"},
        {"building_id": one["id"], "kind": "as_built", "discipline": "建筑", "number": "竣建-01",
         "title": "竣工/平面图"},
        {"building_id": two["id"], "discipline": "结构", "number": "结施-01", "title": "基础图"},
        {"building_id": two["id"], "discipline": "结构", "number": "结施-02", "title": "梁配筋图"},
    ]  # fmt: skip
    items = (await owner.post(f"/api/v1/projects/{pid}/drawings", json={"entries": entries})).json()["items"]
    by_number = {d["number"]: d for d in items}
    files = {
        "建施-01": pdf_bytes(1_500_000, seed=11),
        "竣建-01": pdf_bytes(700_000, seed=12),
        "结施-01": pdf_bytes(20_000, seed=13),
        "结施-02": pdf_bytes(30_000, seed=14),
    }
    await upload_version(owner, by_number["建施-01"]["id"], pdf_bytes(100, seed=10), "old.pdf")
    for number, data in files.items():
        await upload_version(owner, by_number[number]["id"], data, f"{number}.PDF")
    return {"project": project, "one": one, "two": two, "drawings": by_number, "files": files}


@pytest.fixture
async def made(as_user) -> dict[str, Any]:
    owner = await as_user("pujiang")
    return {"owner": owner, **await _make(owner)}


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


async def test_a_building_and_an_entry_of_another_package_to_their_latest_versions(made):
    owner, files = made["owner"], made["files"]
    url = f"/api/v1/projects/{made['project']['id']}/package"
    response = await owner.get(
        url, params=[("building_id", made["one"]["id"]), ("drawing_id", made["drawings"]["结施-02"]["id"])]
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    entries = _unzip(response.content)
    assert list(entries) == [
        "1号楼/施工图/建施-01 一层平面图（第2版）.pdf",  # the latest version only; 建施-02 has no file
        "1号楼/竣工图/竣建-01 竣工_平面图（第1版）.pdf",  # "/" in a title does not make a folder
        "2号楼/施工图/结施-02 梁配筋图（第1版）.pdf",
    ]
    expected = [files["建施-01"], files["竣建-01"], files["结施-02"]]
    assert [sm3_hex(b) for b in entries.values()] == [sm3_hex(b) for b in expected]

    as_built = await owner.get(url, params={"building_id": made["one"]["id"], "kind": "as_built"})
    assert list(_unzip(as_built.content)) == ["1号楼/竣工图/竣建-01 竣工_平面图（第1版）.pdf"]


async def test_the_zip_is_streamed_while_it_is_built(made):
    owner = made["owner"]
    url = f"/api/v1/projects/{made['project']['id']}/package"
    params = [("building_id", made["one"]["id"]), ("building_id", made["two"]["id"])]
    async with owner.stream("GET", url, params=params) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # not built beforehand: sent as it is made
        assert response.headers["transfer-encoding"] == "chunked"
        chunks = response.aiter_raw()
        first = await anext(chunks)
        assert first.startswith(b"PK\x03\x04")
        total = sum(len(f) for f in made["files"].values())
        assert len(first) < total  # the first bytes arrive before the whole package exists
        rest = b"".join([c async for c in chunks])
    package = first + rest
    assert b"PK\x06\x06" in package[-200:]  # ZIP64 end of central directory: no 4 GB or 65535-file limit
    entries = _unzip(package)
    assert len(entries) == 4
    assert sum(len(b) for b in entries.values()) == total
    with zipfile.ZipFile(io.BytesIO(package)) as archive:  # not compressed: stored blocks only
        assert all(i.compress_size < i.file_size * 1.001 + 100 for i in archive.infolist())

    for _ in range(3):  # clients that go away after the first chunk leave nothing behind
        async with owner.stream("GET", url, params=params) as abandoned:
            await anext(abandoned.aiter_raw())
    again = await owner.get(url, params=params)
    assert len(_unzip(again.content)) == 4


async def test_many_packages_at_once_all_finish(made):
    """More concurrent packages than zip threads (and than the default thread pool of a small
    machine): they wait for each other, never deadlock."""
    owner = made["owner"]
    url = f"/api/v1/projects/{made['project']['id']}/package"
    params = [("building_id", made["one"]["id"]), ("building_id", made["two"]["id"])]
    responses = await asyncio.wait_for(
        asyncio.gather(*(owner.get(url, params=params) for _ in range(40))), 60
    )
    assert {len(_unzip(r.content)) for r in responses} == {4}


async def test_bad_selections_are_refused_before_any_byte(made, as_user):
    owner, pid = made["owner"], made["project"]["id"]
    url = f"/api/v1/projects/{pid}/package"
    empty = await owner.get(url)
    assert (empty.status_code, empty.json()["error"]["message"]) == (422, "请先选择要打包的单体或图纸")
    no_files = await owner.get(url, params={"drawing_id": made["drawings"]["建施-02"]["id"]})
    assert (no_files.status_code, no_files.json()["error"]["message"]) == (422, "所选图纸都还没有上传文件")
    for params in ({"building_id": "nope"}, {"drawing_id": "1234"}, {"building_id": made["one"]["id"], "kind": "x"},
                   {"building_id": made["one"]["id"], "other": "1"}):  # fmt: skip
        response = await owner.get(url, params=params)
        assert response.status_code == 422, params
    other = await _make(owner)  # the same owner's other project: its ids are not of this one
    for params in ({"building_id": other["one"]["id"]}, {"drawing_id": other["drawings"]["结施-01"]["id"]},
                   {"building_id": [made["one"]["id"], str(uuid.uuid4())]}):  # fmt: skip
        response = await owner.get(url, params=params)
        assert response.status_code == 404, params
    assert (
        await owner.get(f"/api/v1/projects/{uuid.uuid4()}/package", params={"building_id": made["one"]["id"]})
    ).status_code == 404


async def test_only_readers_of_the_project_get_packages_and_each_package_is_audited(made, as_user, pool):
    owner, pid = made["owner"], made["project"]["id"]
    url = f"/api/v1/projects/{pid}/package"
    params = {"building_id": made["two"]["id"]}
    reviewer, stranger = await as_user("zhujian"), await as_user("shencheng")
    assert (await reviewer.get(url, params=params)).status_code == 404
    assert (await stranger.get(url, params=params)).status_code == 404
    dispatched = await owner.post(
        f"/api/v1/projects/{pid}/approval",
        json={"tasks": [{"dept_org_id": ZJW, "item": "施工许可", "limit_workdays": 5}]},
    )
    assert dispatched.status_code == 200, dispatched.text
    response = await reviewer.get(url, params=params)
    assert response.status_code == 200
    assert len(_unzip(response.content)) == 2
    assert (await stranger.get(url, params=params)).status_code == 404

    row = await pool.fetchrow(
        "SELECT actor_login, detail FROM audit_entry WHERE action = 'drawing.package' AND target = $1"
        " ORDER BY seq DESC LIMIT 1",
        f"project:{pid}",
    )
    detail = row["detail"] if isinstance(row["detail"], dict) else json.loads(row["detail"])
    assert row["actor_login"] == "zhujian"
    assert detail["files"] == 2
    assert detail["bytes"] == 50_000
    assert sorted(detail["versions"]) == sorted(
        f"{made['drawings'][n]['id']}:1" for n in ("结施-01", "结施-02")
    )


async def test_a_selection_of_more_files_than_the_limit_is_413_before_any_byte(made, pool, settings):
    """The server runs with the default limit (files_package_max); the extra entries are written
    directly, all pointing at one stored file."""
    owner, pid, building = made["owner"], made["project"]["id"], made["two"]["id"]
    source = made["drawings"]["结施-01"]
    blob = await pool.fetchrow(
        "SELECT blob_sm3, size FROM drawing_version WHERE drawing_id = $1", uuid.UUID(source["id"])
    )
    limit = settings.files_package_max
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO drawing (id, project_id, building_id, kind, discipline, number, title, latest_version)
               SELECT gen_random_uuid(), $1, $2, 'construction', '结构', 'Z-' || g, '批量图' || g, 1
               FROM generate_series(1, $3) g""",
            uuid.UUID(pid), uuid.UUID(building), limit,
        )  # fmt: skip
        await conn.execute(
            """INSERT INTO drawing_version (drawing_id, version, blob_sm3, file_name, size, media_type, uploaded_by,
                                            upload_id)
               SELECT id, 1, $2, 'z.pdf', $3, 'application/pdf', $4, gen_random_uuid()
               FROM drawing WHERE building_id = $1 AND number LIKE 'Z-%'""",
            uuid.UUID(building), blob["blob_sm3"], blob["size"], stable_id("user", "pujiang"),
        )  # fmt: skip
    url = f"/api/v1/projects/{pid}/package"
    response = await owner.get(url, params={"building_id": building})  # limit + 2 files
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert str(limit) in response.json()["error"]["message"]
    one_building = await owner.get(url, params={"building_id": made["one"]["id"]})
    assert one_building.status_code == 200  # a smaller selection of the same project still works


def test_the_limit_admits_exactly_the_maximum():
    check_limit(2000, 2000)
    with pytest.raises(PayloadTooLarge):
        check_limit(2001, 2000)


def test_member_names_are_sanitised_and_unique():
    def row(
        building: str, number: str, title: str, file_name: str = "a.pdf", kind: str = "construction"
    ) -> dict:
        return {"building_name": building, "kind": kind, "number": number, "title": title, "version": 1,
                "file_name": file_name}  # fmt: skip

    names = member_names([
        row("A/B", "1", "x:y"), row("A_B", "1", "x_y"), row("..", "2", "z", "noext"), row("C", "3", "t", "b.DWG"),
    ])  # fmt: skip
    assert names == [
        "A_B/施工图/1 x_y（第1版）.pdf",
        "A_B/施工图/1 x_y（第1版）（2）.pdf",
        "未命名单体/施工图/2 z（第1版）",
        "C/施工图/3 t（第1版）.dwg",
    ]
