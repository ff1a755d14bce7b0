"""The project websocket: authenticated, object-checked, resumable from the last sequence seen."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import unique_code
from tests.support.clients import login, next_frame, open_ws
from tests.support.processes import start_server


async def _new_project(client) -> dict:
    response = await client.post("/api/v1/projects", json={"code": unique_code(), "name": "推送测试项目"})
    assert response.status_code == 201
    return response.json()


async def _close_code(ws) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await next_frame(ws)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_reconnecting_client_receives_exactly_the_events_after_its_last_sequence(
    server, worker, as_user
):
    applicant = await as_user("pujiang")
    project = await _new_project(applicant)
    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since=0", applicant)
    try:
        assert (await next_frame(ws))["seq"] == 1
        assert (await next_frame(ws, timeout=20))["seq"] == 2
    finally:
        await ws.close()
    resumed = await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since=1", applicant)
    try:
        frame = await next_frame(resumed)
        assert (frame["type"], frame["seq"]) == ("project.archive_opened", 2)
    finally:
        await resumed.close()


async def test_a_client_that_saw_everything_gets_no_replay_and_one_from_the_future_gets_a_snapshot(
    server, worker, as_user
):
    applicant = await as_user("pujiang")
    project = await _new_project(applicant)
    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since=99", applicant)
    try:
        frame = await next_frame(ws)
        assert frame["type"] == "snapshot"
        assert frame["data"]["code"] == project["code"]
    finally:
        await ws.close()


async def test_an_anonymous_websocket_is_closed_with_4401(server, as_user):
    project = await _new_project(await as_user("pujiang"))
    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}", None)
    assert await _close_code(ws) == 4401


async def test_another_enterprises_websocket_is_closed_with_4404_and_receives_nothing(server, as_user):
    project = await _new_project(await as_user("pujiang"))
    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}", await as_user("shencheng"))
    assert await _close_code(ws) == 4404


async def test_a_role_without_project_read_is_closed_with_4403(server, as_user):
    project = await _new_project(await as_user("pujiang"))
    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}", await as_user("expert"))
    assert await _close_code(ws) == 4403


@pytest.mark.parametrize("since", ["abc", "-1", "1.5"])
async def test_a_malformed_since_is_closed_with_4400(server, as_user, since):
    applicant = await as_user("pujiang")
    project = await _new_project(applicant)
    ws = await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since={since}", applicant)
    assert await _close_code(ws) == 4400


async def test_a_websocket_to_an_unknown_path_is_refused(server, as_user):
    with pytest.raises(InvalidStatus):
        await open_ws(server.ws_url, "/ws/nothing-here", await as_user("pujiang"))


async def test_two_subscribers_of_one_project_both_see_a_new_event(server, worker, as_user):
    applicant = await as_user("pujiang")
    reviewer = await as_user("zhujian")
    project = await _new_project(applicant)
    watchers = [
        await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since=0", applicant),
        await open_ws(server.ws_url, f"/ws/projects/{project['id']}?since=0", reviewer),
    ]
    try:
        for ws in watchers:
            types = [(await next_frame(ws, timeout=20))["type"] for _ in range(2)]
            assert types == ["project.created", "project.archive_opened"]
    finally:
        for ws in watchers:
            await ws.close()


async def test_an_idle_stream_sends_heartbeats(env, tmp_path, as_user):
    child = start_server({**env, "TONGBAN_WS_HEARTBEAT_S": "0.2"}, tmp_path / "server.log")
    try:
        client = await login(child.url, "pujiang")
        project = await _new_project(client)
        ws = await open_ws(child.ws_url, f"/ws/projects/{project['id']}", client)
        try:
            frames = [json.loads(await asyncio.wait_for(ws.recv(), timeout=5)) for _ in range(3)]
        finally:
            await ws.close()
            await client.aclose()
        assert frames[0]["type"] == "snapshot"
        later = [f["type"] for f in frames[1:]]  # heartbeats, and the archive event whenever the job is done
        assert "ping" in later
        assert set(later) <= {"ping", "project.archive_opened"}
    finally:
        child.stop()
