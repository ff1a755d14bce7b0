"""Application materials (申报材料) of 开工一件事 over HTTP (real server, PostgreSQL, Redis): a file is uploaded
for a material of the one form and listed; a wrong type, an empty file, an oversize body and an unknown
material are refused; another enterprise sees nothing; an earlier project's file is linked without new
bytes; a removed file leaves the form but keeps its row; a submission needs every required material and
signs their SM3s; the department of an item downloads its own files only, and every step is audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from server.security.gm import sm3_hex
from tests.server.approval.kaigong import (
    attach_required,
    pdf_bytes,
    ready,
    signed_submission,
    upload_material,
    values_for,
)
from tests.server.approval.test_applications import new_project, submit

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture
async def key(pool, settings) -> dict[str, Any]:
    return await ready(pool, settings.keys_path, settings.var_path)


def materials_url(project_id: str) -> str:
    return f"/api/v1/projects/{project_id}/kaigong/materials"


async def audited(pool: Any, action: str, target: str) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM audit_entry WHERE action = $1 AND target = $2", action, target
        )
    return found


async def test_an_uploaded_pdf_is_stored_by_its_sm3_listed_under_its_material_and_audited(
    server, as_user, key, pool
):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    data = pdf_bytes("建筑工程施工许可证申请表")
    answer = await upload_material(owner, project["id"], "SG01", data, "施工许可申请表.pdf")
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    assert (stored["code"], stored["file_name"], stored["size"]) == ("SG01", "施工许可申请表.pdf", len(data))
    assert (stored["sm3"], stored["media_type"], stored["source"]) == (
        sm3_hex(data),
        "application/pdf",
        "upload",
    )
    listed = (await owner.get(materials_url(project["id"]))).json()
    assert [(m["id"], m["code"]) for m in listed["materials"]] == [(stored["id"], "SG01")]
    again = await upload_material(owner, project["id"], "SG01", data, "again.pdf")  # the same file: one row
    assert again.json()["id"] == stored["id"]
    assert await audited(pool, "kaigong.material.upload", f"approval_material:{stored['id']}") == 1


async def test_a_wrong_type_an_empty_file_an_oversize_body_and_an_unknown_material_are_refused(
    server, as_user, key
):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    pid = project["id"]
    pdf = pdf_bytes("材料")
    for data, name in ((b"PK\x03\x04" + b"\x00" * 64, "a.zip"), (b"plain text", "a.pdf"), (pdf, "a.png"),
                       (PNG_HEAD, "a.pdf"), (pdf, "no-extension"), (b"AC1032" + b"\x00" * 64, "a.dwg")):  # fmt: skip
        refused = await upload_material(owner, pid, "SG01", data, name)
        assert (refused.status_code, refused.json()["error"]["code"]) == (415, "unsupported_file_type"), name
    empty = await upload_material(owner, pid, "SG01", b"", "a.pdf")
    assert (empty.status_code, empty.json()["error"]["fields"][0]["field"]) == (422, "file")
    unknown = await upload_material(owner, pid, "NOPE99", pdf, "a.pdf")
    assert (unknown.status_code, unknown.json()["error"]["fields"][0]["field"]) == (422, "material_code")
    oversize = b"%PDF-" + b"\x00" * FIFTY_MB
    declared = await upload_material(owner, pid, "SG01", oversize, "big.pdf")
    assert (declared.status_code, declared.json()["error"]["code"]) == (413, "payload_too_large")

    async def chunks() -> Any:
        for start in range(0, len(oversize), 1 << 20):
            yield oversize[start : start + (1 << 20)]

    streamed = await owner.put(f"{materials_url(pid)}/SG01", params={"name": "big.pdf"}, content=chunks())
    assert streamed.status_code == 413
    assert (await owner.get(materials_url(pid))).json()["materials"] == []


async def test_another_enterprise_can_neither_upload_list_remove_nor_reuse_a_projects_materials(
    server, as_user, key
):
    owner, stranger = await as_user("pujiang"), await as_user("shencheng")
    project = await new_project(owner)
    stored = (await upload_material(owner, project["id"], "SG01", pdf_bytes("浦江"), "a.pdf")).json()
    assert (
        await upload_material(stranger, project["id"], "SG01", pdf_bytes("x"), "a.pdf")
    ).status_code == 404
    assert (await stranger.get(materials_url(project["id"]))).status_code == 404
    assert (await stranger.delete(f"{materials_url(project['id'])}/{stored['id']}")).status_code == 404
    own = await new_project(stranger)
    taken = await stranger.post(f"{materials_url(own['id'])}/SG01/reuse", json={"material_id": stored["id"]})
    assert taken.status_code == 404
    assert (await stranger.get(materials_url(own["id"]))).json() == {"materials": [], "earlier": []}


async def test_an_earlier_projects_material_is_offered_and_linked_without_new_bytes(
    server, as_user, key, pool
):
    owner = await as_user("pujiang")
    earlier, project = await new_project(owner), await new_project(owner)
    data = pdf_bytes(f"规划许可证 {uuid.uuid4()}")
    first = (await upload_material(owner, earlier["id"], "SG02", data, "规划许可证.pdf")).json()
    offered = (await owner.get(materials_url(project["id"]))).json()
    mine = [m for m in offered["earlier"] if m["code"] == "SG02"]
    assert (mine[0]["id"], mine[0]["project_code"]) == (first["id"], earlier["code"])
    assert len(mine) <= 5
    async with pool.acquire() as conn:
        blobs = await conn.fetchval("SELECT count(*) FROM file_blob")

    wrong_code = await owner.post(
        f"{materials_url(project['id'])}/SG01/reuse", json={"material_id": first["id"]}
    )
    assert wrong_code.status_code == 422
    nobody = await owner.post(
        f"{materials_url(project['id'])}/SG02/reuse", json={"material_id": str(uuid.uuid4())}
    )
    assert nobody.status_code == 404
    linked = await owner.post(f"{materials_url(project['id'])}/SG02/reuse", json={"material_id": first["id"]})
    assert linked.status_code == 201, linked.text
    row = linked.json()
    assert (row["sm3"], row["source"], row["file_name"]) == (first["sm3"], "reuse", "规划许可证.pdf")
    assert row["id"] != first["id"]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM file_blob") == blobs  # no new bytes
        assert await conn.fetchval("SELECT reused_from FROM approval_material WHERE id = $1",
                                   uuid.UUID(row["id"])) == uuid.UUID(first["id"])  # fmt: skip
    listed = (await owner.get(materials_url(project["id"]))).json()["materials"]
    assert [m["sm3"] for m in listed] == [first["sm3"]]
    assert await audited(pool, "kaigong.material.reuse", f"approval_material:{row['id']}") == 1


async def test_a_removed_material_leaves_the_form_but_its_row_stays_withdrawn(server, as_user, key, pool):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    stored = (await upload_material(owner, project["id"], "SG03", pdf_bytes("合同"), "合同.pdf")).json()
    removed = await owner.delete(f"{materials_url(project['id'])}/{stored['id']}")
    assert removed.status_code == 200, removed.text
    assert (await owner.get(materials_url(project["id"]))).json()["materials"] == []
    assert (await owner.delete(f"{materials_url(project['id'])}/{stored['id']}")).status_code == 404
    async with pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT withdrawn_at IS NOT NULL FROM approval_material WHERE id = $1", uuid.UUID(stored["id"])
        )
    assert await audited(pool, "kaigong.material.withdraw", f"approval_material:{stored['id']}") == 1


async def test_a_submission_needs_every_required_material_and_signs_their_sm3s(server, as_user, key, pool):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    base = f"/api/v1/projects/{project['id']}/kaigong"
    values = values_for(project)
    form = (await owner.post(f"{base}/form/check", json={"values": values})).json()
    required = {m["code"]: m["name"] for m in form["materials"] if m["required"]}
    assert {"SG01", "PS01", "JL01", "SG08"} <= set(required)  # SG08: the 9.5 m pit needs its plan

    missing = await submit(owner, project["id"], signed_submission(form, project["id"], values, key))
    assert missing.status_code == 422
    fields = {f["field"]: f for f in missing.json()["error"]["fields"]}
    assert set(fields) == {f"materials.{c}" for c in required}
    assert fields["materials.SG01"] == {"field": "materials.SG01", "message": f"请上传{required['SG01']}",
                                        "type": "missing"}  # fmt: skip

    attached = await attach_required(owner, project["id"], form)
    foreign = {**attached, "SG01": [sm3_hex(b"not a file of this project")]}
    answer = await submit(owner, project["id"], signed_submission(form, project["id"], values, key, foreign))
    assert answer.json()["error"]["fields"] == [
        {"field": "materials.SG01", "message": "签名中的文件不是本项目已上传的该材料", "type": "unknown_file"}
    ]
    swapped = {**attached, "SG01": attached["SG02"]}  # a file of this project, under another material
    answer = await submit(owner, project["id"], signed_submission(form, project["id"], values, key, swapped))
    assert answer.status_code == 422
    async with pool.acquire() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM approval_application WHERE project_id = $1", uuid.UUID(project["id"])
        )
    assert count == 0

    done = await submit(owner, project["id"], signed_submission(form, project["id"], values, key, attached))
    assert done.status_code == 201, done.text
    cases = {c["item_code"]: c["id"] for c in done.json()["cases"]}
    water = await as_user("shuiwu")
    part = (await water.get(f"/api/v1/kaigong/cases/{cases['LSPS']}/form")).json()
    assert part["signature"]["valid"] is True
    files = {m["code"]: m["files"] for m in part["materials"]}
    assert set(files) == {"PS01", "PS02", "PS03"}  # only its own item's materials
    assert [f["sm3"] for f in files["PS01"]] == attached["PS01"]  # what was signed
    assert files["PS01"][0]["file_name"] == "PS01.pdf"
    assert files["PS01"][0]["url"] == f"/api/v1/kaigong/cases/{cases['LSPS']}/materials/{attached['PS01'][0]}"


async def test_the_department_downloads_its_items_files_only_and_each_download_is_audited(
    server, as_user, key, pool
):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    base = f"/api/v1/projects/{project['id']}/kaigong"
    values = values_for(project)
    form = (await owner.post(f"{base}/form/check", json={"values": values})).json()
    data = pdf_bytes(f"排水许可申请表 {uuid.uuid4()}")
    assert (
        await upload_material(owner, project["id"], "PS01", data, "排水许可申请表.pdf")
    ).status_code == 201
    attached = await attach_required(owner, project["id"], form)
    done = await submit(owner, project["id"], signed_submission(form, project["id"], values, key, attached))
    cases = {c["item_code"]: c["id"] for c in done.json()["cases"]}
    url = f"/api/v1/kaigong/cases/{cases['LSPS']}/materials/{sm3_hex(data)}"

    water, roads = await as_user("shuiwu"), await as_user("jiaotong")
    got = await water.get(url)
    assert got.status_code == 200, got.text
    assert got.content == data
    assert got.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''%E6%8E%92%E6%B0%B4" in got.headers["content-disposition"]
    assert (await roads.get(url)).status_code == 403  # another department's case
    jl01 = attached["JL01"][0]  # in the application, but for 交通's item
    assert (await water.get(f"/api/v1/kaigong/cases/{cases['LSPS']}/materials/{jl01}")).status_code == 404
    unknown = sm3_hex(b"never uploaded")
    assert (await water.get(f"/api/v1/kaigong/cases/{cases['LSPS']}/materials/{unknown}")).status_code == 404
    assert (
        await water.get(f"/api/v1/kaigong/cases/{cases['LSPS']}/materials/not-a-digest")
    ).status_code == 404
    assert (await roads.get(f"/api/v1/kaigong/cases/{cases['JLZL']}/materials/{jl01}")).status_code == 200
    assert (await owner.get(url)).status_code == 403  # the applicant is no department
    assert await audited(pool, "kaigong.material.download", f"approval_case:{cases['LSPS']}") == 1
