"""The walking skeleton, end to end through real processes: a project created over HTTP is recorded
by its actor, which enqueues a job; the arq worker process does it and reports back; a websocket
client subscribed to the project receives every event."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import unique_code
from tests.support.clients import frame_of_type, next_frame, open_ws


async def test_project_created_over_http_is_archived_by_the_worker_and_streamed_to_a_subscriber(
    server, worker, as_user, var_dir: Path
):
    applicant = await as_user("pujiang")
    code = unique_code()
    created = await applicant.post("/api/v1/projects", json={"code": code, "name": "张江科学城人才公寓二期"})
    assert created.status_code == 201, created.text
    project = created.json()
    assert (project["code"], project["status"], project["seq"]) == (code, "registered", 1)

    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since=0", applicant)
    try:
        first = await next_frame(ws)
        assert (first["type"], first["seq"], first["data"]["code"]) == ("project.created", 1, code)
        opened = await frame_of_type(ws, "project.archive_opened", timeout=20)
    finally:
        await ws.close()

    assert opened["seq"] == 2
    archive_no = opened["data"]["archive_no"]
    assert archive_no.startswith("DA")
    after = (await applicant.get(f"/api/v1/projects/{project['id']}")).json()
    assert (after["status"], after["archive_no"], after["status_label"]) == (
        "archived",
        archive_no,
        "项目电子档案已建立",
    )
    manifest = json.loads((var_dir / "archive" / project["id"] / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["archive_no"], manifest["project_code"]) == (archive_no, code)


async def test_a_subscriber_connected_before_the_job_finishes_sees_the_snapshot_then_the_archive_event(
    server, worker, as_user
):
    applicant = await as_user("pujiang")
    created = (
        await applicant.post("/api/v1/projects", json={"code": unique_code(), "name": "前滩商业综合体"})
    ).json()
    ws = await open_ws(server.ws_url, f"/ws/projects/{created['id']}", applicant)
    try:
        snapshot = await next_frame(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["data"]["code"] == created["code"]
        if snapshot["data"]["status"] == "registered":
            event = await frame_of_type(ws, "project.archive_opened", timeout=20)
            assert event["seq"] == snapshot["seq"] + 1
        else:
            assert (snapshot["data"]["status"], snapshot["seq"]) == ("archived", 2)
    finally:
        await ws.close()
