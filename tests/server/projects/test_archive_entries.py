"""The project electronic archive records every document as it happens: a drawing version (施工图 → 工程建设许可),
and, once a permit is issued through the deliverables, the document under 施工许可; the same document is
recorded once, and the database refuses to change or delete an entry."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from docgen.pdf.template import sample_data
from server.security.gm import sm3_hex
from server.seed import stable_id
from tests.conftest import unique_code
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


async def test_documents_made_before_the_archive_existed_are_recorded_once_by_the_backfill(pool):
    """Rows written the way the code wrote them before 0017 (no archive entry), then the backfill, twice."""
    owner, user = stable_id("org", "91310115MA1K4AB12X"), stable_id("user", "pujiang")
    project, building, drawing = uuid4(), uuid4(), uuid4()
    sm3 = sm3_hex(project.bytes)
    backfill = (Path(__file__).parents[3] / "server/migrations/0019_archive_backfill.sql").read_text()
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO project (id, code, name, owner_org_id, created_by) VALUES ($1, $2, '补录', $3, $4)",
            project, unique_code(), owner, user,
        )  # fmt: skip
        await conn.execute("INSERT INTO building (id, project_id, name, created_by) VALUES ($1, $2, '1号楼', $3)",
                           building, project, user)  # fmt: skip
        await conn.execute(
            "INSERT INTO drawing (id, project_id, building_id, kind, discipline, number, title, latest_version)"
            " VALUES ($1, $2, $3, 'as_built', '建筑', '建竣-01', '总平面图', 1)", drawing, project, building,
        )  # fmt: skip
        await conn.execute("INSERT INTO file_blob (sm3, size, media_type) VALUES ($1, 1, 'application/pdf')"
                           " ON CONFLICT DO NOTHING", sm3)  # fmt: skip
        await conn.execute(
            "INSERT INTO drawing_version (drawing_id, version, blob_sm3, file_name, size, media_type, uploaded_by,"
            " upload_id) VALUES ($1, 1, $2, 'a.pdf', 1, 'application/pdf', $3, $4)", drawing, sm3, user, uuid4(),
        )  # fmt: skip
        await conn.execute(backfill)
        await conn.execute(backfill)
        rows = await conn.fetch(
            "SELECT stage, title, sm3 FROM project_archive_entry WHERE project_id = $1", project
        )
    assert [(r["stage"], r["title"], r["sm3"]) for r in rows] == [
        ("竣工验收", "竣工图 建竣-01 总平面图（第 1 版）", sm3)
    ]
