"""The project electronic archive records every document as it happens: a drawing version (施工图 → 工程建设许可),
and, once a permit is issued through the deliverables, the document under 施工许可; the same document is
recorded once, and the database refuses to change or delete an entry."""

from __future__ import annotations

import asyncpg
import pytest

from docgen.pdf.template import sample_data
from server.security.gm import sm3_hex
from tests.server.deliverables.test_deliverables import rendered
from tests.support.uploads import pdf_bytes, project_with_drawings, upload_version

pytestmark = pytest.mark.usefixtures("worker")


async def test_a_drawing_version_and_an_issued_permit_are_recorded_in_the_archive_by_stage(
    server, as_user, pool
):
    owner = await as_user("pujiang")
    made = await project_with_drawings(owner)
    project, drawing = made["project"], made["drawings"][0]
    data = pdf_bytes(20_000, seed=7)
    await upload_version(owner, drawing["id"], data, "建施-01.pdf")

    issuer = await as_user("zhujian_issue")
    permit = {"kind": "construction_permit", "data": sample_data("construction_permit")}
    answer = await issuer.post(f"/api/v1/projects/{project['id']}/deliverables", json=permit)
    done = await rendered(issuer, server, answer.json())
    assert (await issuer.post(f"/api/v1/deliverables/{done['id']}/issue")).status_code == 200
    assert (await issuer.post(f"/api/v1/deliverables/{done['id']}/issue")).status_code == 409

    archive = (await owner.get(f"/api/v1/projects/{project['id']}/archive")).json()
    stages = {s["stage"]: s["entries"] for s in archive["stages"]}
    assert list(stages) == ["立项用地规划许可", "工程建设许可", "施工许可", "竣工验收"]
    (drawing_entry,) = stages["工程建设许可"]
    assert drawing_entry["title"].startswith("施工图 建施-01")
    assert drawing_entry["sm3"] == sm3_hex(data)
    (permit_entry,) = stages["施工许可"]
    assert (permit_entry["ref"], permit_entry["sm3"]) == (done["id"], done["content_sm3"])
    assert (
        await (await as_user("shencheng")).get(f"/api/v1/projects/{project['id']}/archive")
    ).status_code == 404
    page = await owner.get(f"/projects/{project['id']}")
    assert "项目电子档案" in page.text
    assert "施工图 建施-01" in page.text

    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute("UPDATE project_archive_entry SET title = 'x' WHERE ref = $1", done["id"])
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute("DELETE FROM project_archive_entry WHERE ref = $1", done["id"])
