"""Deliverables through the whole stack: a saved filling version (or certificate data) → queued →
rendered by the real arq worker in its rendering processes, progress streamed by the deliverable actor
→ previewed → issued with the platform's SM2 signature → verified publicly (digest, file, revocation);
and who may do what."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import ezdxf
import numpy as np
import pymupdf
import pytest
import zxingcpp

from docgen import samples
from docgen.pdf.template import sample_data
from docgen.stamp import parse_payload
from server.security.gm import Sm2PublicKey, sm2_verify, sm3_hex
from tests.collab.yclient import YClient, new_document
from tests.server.deliverables.filling import write_content
from tests.support.clients import next_frame, open_ws

pytestmark = pytest.mark.usefixtures("worker")


async def saved_version(server: Any, client: Any, content: dict[str, Any]) -> tuple[str, str, str]:
    """(project id, document id, version id) of a new bim_building document holding `content`."""
    doc = await new_document(client, "建筑信息填报", "bim_building")
    editor = await YClient.connect(server.ws_url, doc["id"], client)
    await editor.change(write_content(content))
    await editor.roundtrip()
    saved = await client.post(f"/api/v1/documents/{doc['id']}/versions", json={"name": "出图版"})
    assert saved.status_code == 201, saved.text
    await editor.close()
    return doc["project_id"], doc["id"], saved.json()["id"]


async def generate(client: Any, project_id: str, body: dict[str, Any]) -> Any:
    return await client.post(f"/api/v1/projects/{project_id}/deliverables", json=body)


async def rendered(client: Any, server: Any, deliverable: dict[str, Any]) -> dict[str, Any]:
    """Follow the deliverable's websocket until it is rendered (or failed); the deliverable then."""
    ws = await open_ws(server.ws_url, deliverable["ws_path"] + "?since=0", client)
    try:
        while True:
            frame = await next_frame(ws, timeout=120)
            status = frame["data"].get("status") if frame["type"] == "snapshot" else None
            if frame["type"] in ("deliverable.rendered", "deliverable.failed") or status in (
                "draft",
                "failed",
            ):
                break
    finally:
        await ws.close()
    answer = await client.get(f"/api/v1/deliverables/{deliverable['id']}")
    assert answer.status_code == 200
    return answer.json()


def decode_qr(image: bytes, filetype: str = "png") -> list[str]:
    """The QR codes zxing-cpp reads off a PNG, or off a PDF's first page rendered at 200 dpi."""
    first = pymupdf.open(stream=image, filetype=filetype)[0]
    page = first.get_pixmap(dpi=200) if filetype == "pdf" else first.get_pixmap()
    pixels = np.frombuffer(page.samples, dtype=np.uint8).reshape(page.height, page.width, page.n)
    return [r.text for r in zxingcpp.read_barcodes(pixels)]


async def test_a_saved_filling_version_becomes_a_sheet_set_that_streams_progress_previews_and_verifies_once_issued(
    server, as_user, anonymous, pool
):
    owner = await as_user("pujiang")
    project_id, doc_id, version_id = await saved_version(server, owner, samples.filling())
    body = {"kind": "structure_notes", "doc_id": doc_id, "version_id": version_id,
            "signatories": {"设计": "陈思齐", "审定": "周明远"}}  # fmt: skip
    answer = await generate(owner, project_id, body)
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert queued["status"] == "queued"
    assert queued["revision"] == 1
    assert queued["id"].startswith("TB")

    done = await rendered(owner, server, queued)
    assert done["status"] == "draft", done
    assert done["pages"] >= 1
    assert done["sheet_numbers"][0].startswith("结施")
    assert {f["ext"] for f in done["files"]} >= {"dxf", "pdf"}
    assert len(done["previews"]) == done["pages"]

    dxf = await owner.get(f"/api/v1/deliverables/{done['id']}/files/dxf")
    assert dxf.status_code == 200
    assert sm3_hex(dxf.content) == dxf.headers["x-content-sm3"]
    drawing = ezdxf.read(io.StringIO(dxf.content.decode("utf-8")))
    texts = " ".join(e.dxf.text for layout in drawing.layouts for e in layout.query("TEXT"))
    assert "结构设计总说明" in texts
    assert "陈思齐" in texts  # the signatories given with the request, in the 签字区
    assert samples.PROJECT["project_name"] in texts

    preview = await owner.get(done["previews"][0])
    assert preview.headers["content-type"] == "image/png"
    (payload,) = decode_qr(preview.content)
    assert parse_payload(payload) == (done["id"], done["content_sm3"])
    verify_path = payload.split("/verify/", 1)[1]

    before = (await anonymous.get(f"/api/v1/verify/{verify_path}")).json()
    assert before["found"] is True
    assert before["genuine"] is False
    assert before["status_label"] == "未签发"

    issued = await owner.post(f"/api/v1/deliverables/{done['id']}/issue")
    assert issued.status_code == 200, issued.text
    assert issued.json()["status"] == "issued"
    again = await owner.post(f"/api/v1/deliverables/{done['id']}/issue")
    assert again.status_code == 409

    good = (await anonymous.get(f"/api/v1/verify/{verify_path}")).json()
    assert good["genuine"] is True
    assert good["digest_matches"] is True
    assert good["signature_valid"] is True
    assert "有效文件" in good["message"]
    key = (await anonymous.get("/api/v1/verify/key")).json()
    public = Sm2PublicKey.from_pem(key["public_key_pem"])
    statement = good["statement"]
    assert f"dxf={sm3_hex(dxf.content)}" in statement
    page = await anonymous.get(f"/verify/{verify_path}")
    assert page.status_code == 200
    assert "真实有效" in page.text

    forged = (await anonymous.get(f"/api/v1/verify/{done['id']}?sm3={'0' * 64}")).json()
    assert forged["genuine"] is False
    assert forged["digest_matches"] is False
    assert "篡改或伪造" in forged["message"]
    same = (await anonymous.post(f"/api/v1/verify/{done['id']}/file", content=dxf.content)).json()
    assert same["file_matches"] is True
    assert same["genuine"] is True
    altered = dxf.content.replace(samples.PROJECT["project_name"].encode(), "某某项目".encode(), 1)
    tampered = (await anonymous.post(f"/api/v1/verify/{done['id']}/file", content=altered)).json()
    assert tampered["file_matches"] is False
    assert tampered["genuine"] is False
    assert "被修改" in tampered["message"]

    revoked = await owner.post(
        f"/api/v1/deliverables/{done['id']}/revoke", json={"reason": "图纸内容有误，重新出图"}
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    after = (await anonymous.get(f"/api/v1/verify/{verify_path}")).json()
    assert after["genuine"] is False
    assert after["status_label"] == "已撤销"
    assert "重新出图" in after["message"]
    async with pool.acquire() as conn:
        signature = await conn.fetchval("SELECT signature FROM deliverable WHERE id = $1", done["id"])
    assert sm2_verify(public, statement.encode(), signature)  # what a third party checks with openssl


async def test_filling_data_that_cannot_make_the_document_is_refused_with_every_problem_and_nothing_is_stored(
    server, as_user, pool
):
    owner = await as_user("pujiang")
    content = samples.filling()
    content["sections"]["project"]["project_name"] = None
    content["sections"]["structure"]["safety_grade"] = None
    content["sections"]["loads"][0]["live_load"] = 0.5  # below the GB 55001 minimum for 住宅
    project_id, doc_id, version_id = await saved_version(server, owner, content)
    async with pool.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM deliverable")
    answer = await generate(
        owner, project_id, {"kind": "load_calculation", "doc_id": doc_id, "version_id": version_id}
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "document_data_invalid"
    fields = {f["field"] for f in error["fields"]}
    assert {"project.project_name", "structure.safety_grade", "loads.0.live_load"} <= fields
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM deliverable") == before

    for body in (
        {
            "kind": "structure_notes",
            "doc_id": doc_id,
            "version_id": version_id,
            "signatories": {"总工": "张三"},
        },
        {"kind": "structure_notes", "doc_id": doc_id},  # no version
        {
            "kind": "construction_permit",
            "doc_id": doc_id,
            "version_id": version_id,
        },  # a certificate from a form
        {"kind": "no_such_kind", "data": {}},
    ):
        refused = await owner.post(f"/api/v1/projects/{project_id}/deliverables", json=body)
        assert refused.status_code in (403, 422), (body, refused.text)
    garbage = await owner.post(f"/api/v1/projects/{project_id}/deliverables", content=b"{not json",
                               headers={"content-type": "application/json"})  # fmt: skip
    assert garbage.status_code == 400


async def test_another_enterprise_sees_no_deliverable_and_an_applicant_cannot_issue_certificates(
    server, as_user, anonymous
):
    owner = await as_user("pujiang")
    project_id, doc_id, version_id = await saved_version(server, owner, samples.filling())
    made = await generate(
        owner, project_id, {"kind": "architecture_notes", "doc_id": doc_id, "version_id": version_id}
    )
    assert made.status_code == 202
    deliverable_id = made.json()["id"]

    other = await as_user("shencheng")
    assert (await other.get(f"/api/v1/projects/{project_id}/deliverables")).status_code == 404
    assert (await other.get(f"/api/v1/deliverables/{deliverable_id}")).status_code == 404
    assert (await other.get(f"/api/v1/deliverables/{deliverable_id}/files/dxf")).status_code == 404
    assert (await other.post(f"/api/v1/deliverables/{deliverable_id}/issue")).status_code == 404
    stolen = await generate(
        other, project_id, {"kind": "architecture_notes", "doc_id": doc_id, "version_id": version_id}
    )
    assert stolen.status_code == 404
    permit = {"kind": "construction_permit", "data": sample_data("construction_permit")}
    assert (await owner.post(f"/api/v1/projects/{project_id}/deliverables", json=permit)).status_code == 403
    assert (await anonymous.get(f"/api/v1/deliverables/{deliverable_id}")).status_code == 401
    reviewer = await as_user("zhujian")  # may see every project, may not issue the owner's drawings
    assert (await reviewer.get(f"/api/v1/deliverables/{deliverable_id}")).status_code == 200
    assert (await reviewer.post(f"/api/v1/deliverables/{deliverable_id}/issue")).status_code == 403


async def test_a_department_issuer_certifies_a_permit_whose_qr_verifies_and_a_newer_revision_is_announced(
    server, as_user, anonymous
):
    owner = await as_user("pujiang")
    project_id, _doc_id, _version_id = await saved_version(server, owner, samples.filling())
    issuer = await as_user("zhujian_issue")
    data = sample_data("construction_permit")
    first = await generate(issuer, project_id, {"kind": "construction_permit", "data": data})
    assert first.status_code == 202, first.text
    done = await rendered(issuer, server, first.json())
    assert done["status"] == "draft"
    assert [f["ext"] for f in done["files"]] == ["pdf"]
    pdf = await issuer.get(f"/api/v1/deliverables/{done['id']}/files/pdf")
    (payload,) = decode_qr(pdf.content, "pdf")
    assert (await issuer.post(f"/api/v1/deliverables/{done['id']}/issue")).status_code == 200
    assert (await anonymous.get("/api/v1/verify/" + payload.split("/verify/", 1)[1])).json()[
        "genuine"
    ] is True

    second = await generate(issuer, project_id, {"kind": "construction_permit", "data": data})
    newer = await rendered(issuer, server, second.json())
    assert newer["revision"] == 2
    assert (await issuer.post(f"/api/v1/deliverables/{newer['id']}/issue")).status_code == 200
    renumbered = {**data, "permit_no": data["permit_no"][:-1] + "9"}
    another = await generate(issuer, project_id, {"kind": "construction_permit", "data": renumbered})
    assert another.json()["revision"] == 1  # revisions count per certificate number
    old = (await anonymous.get(f"/api/v1/verify/{done['id']}")).json()
    assert old["latest_revision"] == 2
    assert "已有更新版本（第 2 版）" in old["message"]

    unknown = (await anonymous.get("/api/v1/verify/TB20261129AAAAAAAA")).json()
    assert (unknown["found"], unknown["genuine"]) == (False, False)
    malformed = await anonymous.get("/api/v1/verify/" + "%3Cscript%3E" * 5)
    assert malformed.status_code == 200
    assert malformed.json()["found"] is False
    empty = await anonymous.post(f"/api/v1/verify/{done['id']}/file", content=b"")
    assert empty.status_code == 422


async def test_concurrent_generations_of_one_series_get_distinct_revisions_and_one_of_two_issues_wins(
    server, as_user
):
    owner = await as_user("pujiang")
    project_id, doc_id, version_id = await saved_version(server, owner, samples.filling())
    body = {"kind": "load_calculation", "doc_id": doc_id, "version_id": version_id}
    answers = await asyncio.gather(
        *(owner.post(f"/api/v1/projects/{project_id}/deliverables", json=body) for _ in range(6))
    )
    assert [a.status_code for a in answers] == [202] * 6
    assert sorted(a.json()["revision"] for a in answers) == [1, 2, 3, 4, 5, 6]
    done = await rendered(owner, server, answers[0].json())
    assert done["status"] == "draft"
    issues = await asyncio.gather(*(owner.post(f"/api/v1/deliverables/{done['id']}/issue") for _ in range(2)))
    assert sorted(i.status_code for i in issues) == [200, 409]
