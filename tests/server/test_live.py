"""Live websocket connections against a real server: heartbeats answered or the client is closed,
floods rate-limited then closed, frames of the wrong shape answered with an error, oversize frames
refused, and none of it disturbs the other clients of the same actor."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.seed import stable_id
from tests.conftest import unique_code
from tests.support.clients import cookie_header, login, next_frame, open_ws
from tests.support.processes import ServerChild, start_server

XF = str(stable_id("org", "DEPT-XF"))


@pytest.fixture
def strict_server(env, tmp_path):
    """A server with short heartbeat and idle limits so the tests run in seconds."""
    child = start_server(
        {
            **env,
            "TONGBAN_WS_HEARTBEAT_S": "0.3",
            "TONGBAN_WS_IDLE_TIMEOUT_S": "1.5",
            "TONGBAN_WS_CLIENT_RATE": "5",
            "TONGBAN_WS_CLIENT_BURST": "10",
            "TONGBAN_WS_MAX_FRAME_BYTES": "4096",
        },
        tmp_path / "server.log",
    )
    yield child
    child.stop()


async def _watch(server: ServerChild, client, project_id: str):
    ws = await open_ws(server.ws_url, f"/ws/projects/{project_id}", client)
    assert (await next_frame(ws))["type"] == "snapshot"
    return ws


async def _closed_with(ws, timeout: float = 10.0) -> int:
    """Read (answering pings when `ws.answer_pings`) until the server closes; its close code."""
    async with asyncio.timeout(timeout):
        with pytest.raises(ConnectionClosed) as closed:
            await _read_forever(ws)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def _read_forever(ws) -> None:
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("type") == "ping" and ws.answer_pings:
            await ws.send('{"type":"pong"}')


async def _project(client) -> str:
    response = await client.post("/api/v1/projects", json={"code": unique_code(), "name": "连接测试项目"})
    assert response.status_code == 201
    return str(response.json()["id"])


async def test_a_client_that_answers_heartbeats_stays_and_one_that_does_not_is_closed_with_4408(
    strict_server,
):
    client = await login(strict_server.url, "pujiang")
    project_id = await _project(client)
    polite, silent = (
        await _watch(strict_server, client, project_id),
        await _watch(strict_server, client, project_id),
    )
    polite.answer_pings, silent.answer_pings = True, False
    polite_task = asyncio.create_task(_closed_with(polite, timeout=4.0))
    assert await _closed_with(silent) == 4408
    await asyncio.sleep(0.5)
    assert not polite_task.done()  # still connected well past the idle limit
    polite_task.cancel()
    await polite.close()
    await client.aclose()


async def test_a_flooding_client_is_closed_with_4429_and_its_neighbour_keeps_receiving(strict_server):
    client = await login(strict_server.url, "pujiang")
    project_id = await _project(client)
    flooder, neighbour = (
        await _watch(strict_server, client, project_id),
        await _watch(strict_server, client, project_id),
    )
    flooder.answer_pings = True
    for _ in range(200):
        try:
            await flooder.send('{"type":"pong"}')
        except ConnectionClosed:
            break
    assert await _closed_with(flooder) == 4429
    approval = await client.post(
        f"/api/v1/projects/{project_id}/approval",
        json={"tasks": [{"dept_org_id": await _dept(client), "item": "施工许可", "limit_workdays": 20}]},
    )
    assert approval.status_code == 200, approval.text
    async with asyncio.timeout(10):
        while (frame := await next_frame(neighbour))["type"] != "project.approval_started":
            pass
    assert frame["data"]["tasks"][0]["item"] == "施工许可"
    await neighbour.close()
    await client.aclose()


async def test_a_frame_of_the_wrong_shape_gets_an_error_frame_and_the_connection_stays(strict_server):
    client = await login(strict_server.url, "pujiang")
    ws = await _watch(strict_server, client, await _project(client))
    for bad in ("not json", '{"type": "subscribe", "actor": "project:x"}', "[1, 2]"):
        await ws.send(bad)
        frame = await next_frame(ws)
        assert (frame["type"], frame["code"]) == ("error", "invalid_message"), frame
    await ws.send('{"type":"ping"}')
    assert await next_frame(ws) == {"type": "pong"}
    await ws.close()
    await client.aclose()


async def test_an_oversize_frame_closes_only_that_connection_with_1009(strict_server):
    client = await login(strict_server.url, "pujiang")
    project_id = await _project(client)
    ws = await _watch(strict_server, client, project_id)
    ws.answer_pings = True
    await ws.send("x" * 10_000)
    assert await _closed_with(ws) == 1009
    again = await _watch(strict_server, client, project_id)  # the server is fine
    await again.close()
    await client.aclose()


async def _collect(ws, seqs: list[int]) -> None:
    while True:
        frame = await next_frame(ws, timeout=60)
        if frame["type"] == "project.task_updated":
            seqs.append(frame["seq"])


async def _drain(ws) -> None:
    while True:
        await ws.recv()


async def _dept(client) -> str:
    return str(stable_id("org", "DEPT-ZJW"))


async def test_a_client_that_stops_reading_is_dropped_and_its_neighbour_gets_every_event_in_order(
    env, tmp_path
):
    server = start_server(
        {
            **env,
            "TONGBAN_WS_QUEUE_SIZE": "8",
            "TONGBAN_WS_MAX_OVERFLOWS": "1",
            "TONGBAN_WS_STALL_S": "1",
            "TONGBAN_WS_SEND_BUFFER_BYTES": "16384",
        },
        tmp_path / "server.log",
    )
    try:
        owner = await login(server.url, "pujiang")
        project_id = await _project(owner)
        dispatch = await owner.post(
            f"/api/v1/projects/{project_id}/approval",
            json={"tasks": [{"dept_org_id": XF, "item": "消防设计审查", "limit_workdays": 10}]},
        )
        assert dispatch.status_code == 200
        neighbour = await _watch(server, owner, project_id)
        seqs: list[int] = []
        reading = asyncio.create_task(_collect(neighbour, seqs))  # a client that keeps up
        # A client that hangs: the websockets client stops reading its socket once 2 frames wait unread,
        # and its socket buffers little, so the server's writes back up within a few hundred KB.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sleeper = await connect(
            f"{server.ws_url}/ws/projects/{project_id}",
            sock=sock,
            max_queue=2,
            additional_headers=cookie_header(owner),
        )
        reviewer = await login(server.url, "xiaofang")
        last = dispatch.json()["seq"]
        for n in range(600):
            note = f"{n:04d}" + "审查意见" * 120  # ~1.5 KB per event
            response = await reviewer.put(
                f"/api/v1/projects/{project_id}/tasks/{XF}", json={"status": "in_review", "note": note}
            )
            assert response.status_code == 200
            last = response.json()["seq"]
            if n >= 50 and "ws.stalled" in server.output():
                break
        assert "ws.stalled" in server.output()  # the server gave up on the sleeper …
        async with asyncio.timeout(20):
            while not seqs or seqs[-1] < last:  # noqa: ASYNC110 - the reader task fills `seqs`
                await asyncio.sleep(0.05)
        reading.cancel()
        assert seqs == list(range(seqs[0], last + 1))  # … while the neighbour missed nothing
        async with asyncio.timeout(10):
            with pytest.raises(ConnectionClosed):
                await _drain(sleeper)  # what it had buffered, then the end: the server dropped it
        for ws in (neighbour, sleeper):
            await ws.close()
        for client in (owner, reviewer):
            await client.aclose()
    finally:
        server.stop()
