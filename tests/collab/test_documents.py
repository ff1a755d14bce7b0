"""Collaborative documents over the y-websocket protocol, against the real server: concurrent edits
converge, committed edits survive kill -9, read-only users cannot change a document, malformed
frames close only their own connection, and other enterprises cannot open it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import signal
import socket
import uuid

import pytest
from pycrdt import Doc, Text, write_var_uint
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.collab.yclient import YClient, new_document
from tests.conftest import unique_code
from tests.support.clients import cookie_header, login, open_ws
from tests.support.processes import start_server


async def _document(client, title: str = "协同测试文档") -> str:
    return str((await new_document(client, title))["id"])


async def _drain(ws) -> None:
    while True:
        await ws.recv()


async def _events(pool, doc_id: str) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM actor_event WHERE actor_kind = 'doc' AND actor_id = $1", uuid.UUID(doc_id)
        )


async def test_two_clients_editing_the_same_text_concurrently_converge_and_a_late_joiner_sees_the_same(
    server, as_user
):
    owner = await as_user("pujiang")
    colleague = await as_user("pujiang_agent")
    doc_id = await _document(owner)
    a = await YClient.connect(server.ws_url, doc_id, owner)
    b = await YClient.connect(server.ws_url, doc_id, colleague)

    async def type_into(client: YClient, word: str) -> None:
        for char in word:
            await client.edit(0, char)
            await asyncio.sleep(0)

    await asyncio.gather(type_into(a, "甲方修改意见" * 3), type_into(b, "乙方补充说明" * 3))
    expected = 36
    await a.wait_for(lambda: len(a.content) == expected)
    await b.wait_for(lambda: len(b.content) == expected)
    assert a.content == b.content
    assert sorted(a.content) == sorted("甲方修改意见" * 3 + "乙方补充说明" * 3)

    late = await YClient.connect(server.ws_url, doc_id, owner)
    assert late.content == a.content
    for client in (a, b, late):
        await client.close()


async def test_an_edit_another_client_has_seen_survives_kill_9_of_the_server(env, tmp_path):
    node_env = {**env, "TONGBAN_ASK_TIMEOUT_S": "15"}
    child = start_server(node_env, tmp_path / "node-1.log")
    try:
        owner = await login(child.url, "pujiang")
        doc_id = await _document(owner)
        writer = await YClient.connect(child.ws_url, doc_id, owner)
        watcher = await YClient.connect(child.ws_url, doc_id, owner)
        await writer.edit(0, "施工图审查意见：已整改")
        await watcher.wait_for(lambda: watcher.content == "施工图审查意见：已整改")  # acknowledged
        child.proc.send_signal(signal.SIGKILL)
        child.proc.wait(10)
        for client in (writer, watcher):
            await client.closed()
    finally:
        child.stop()
    again = start_server(node_env, tmp_path / "node-2.log")
    try:
        reader = await YClient.connect(again.ws_url, doc_id, owner)
        assert reader.content == "施工图审查意见：已整改"
        await reader.close()
    finally:
        await owner.aclose()
        again.stop()


async def test_a_read_only_user_who_may_see_the_project_cannot_change_the_document(server, as_user, pool):
    owner = await as_user("pujiang")
    reviewer = await as_user("zhujian")  # sees every project (project.read_any) but edits no document
    doc_id = await _document(owner)
    editor = await YClient.connect(server.ws_url, doc_id, owner)
    # Chinese is inserted at index 0 only: pycrdt 0.14's Text mis-encodes inserts after multi-byte
    # text (y-crdt/pycrdt#379); the server only merges updates and is not affected, Yjs clients neither.
    await editor.edit(0, "原文")
    await editor.roundtrip()

    viewer = await YClient.connect(server.ws_url, doc_id, reviewer)
    assert viewer.content == "原文"
    await viewer.edit(0, "（审查人员擅自修改）")
    await viewer.roundtrip()  # the update was handled (ignored) before this answer
    await editor.edit(0, "已确认：")
    await viewer.wait_for(lambda: "已确认：" in viewer.content)  # still connected, still sees edits

    fresh = await YClient.connect(server.ws_url, doc_id, owner)
    assert fresh.content == "已确认：原文"
    assert "擅自" not in editor.content
    assert await _events(pool, doc_id) == 2
    denied = await reviewer.post(
        f"/api/v1/projects/{uuid.uuid4()}/documents", json={"title": "审查人员不能新建文档"}
    )
    assert denied.status_code == 403
    for client in (editor, viewer, fresh):
        await client.close()


GARBAGE_UPDATE = b"\x00\x02\x05hello"  # well framed sync update whose payload is no Yjs update
MALFORMED = [
    pytest.param(b"\x00\x02\xff", id="truncated-length"),
    pytest.param(b"\x00\x02\x09abc", id="length-past-the-frame"),
    pytest.param(b"\x00\x07\x00", id="unknown-sync-type"),
    pytest.param(b"\x09", id="unknown-message-type"),
    pytest.param(b"\x01\x03\x01\x01\x01", id="truncated-awareness"),
    pytest.param(GARBAGE_UPDATE, id="undecodable-update"),
    pytest.param("not binary", id="text-frame"),
]


@pytest.mark.parametrize("frame", MALFORMED)
async def test_a_malformed_frame_closes_only_that_connection_and_leaves_the_document_unchanged(
    frame, server, as_user, pool
):
    owner = await as_user("pujiang")
    doc_id = await _document(owner)
    bystander = await YClient.connect(server.ws_url, doc_id, owner)
    await bystander.edit(0, "不变的内容")
    await bystander.roundtrip()
    events = await _events(pool, doc_id)

    offender = await YClient.connect(server.ws_url, doc_id, owner)
    await offender.send(frame)
    assert await offender.closed() == 4400

    await bystander.edit(0, "【】")  # the other connection still works
    await bystander.roundtrip()
    fresh = await YClient.connect(server.ws_url, doc_id, owner)
    assert fresh.content == "【】不变的内容"
    assert await _events(pool, doc_id) == events + 1
    for client in (bystander, fresh):
        await client.close()


async def test_another_enterprise_cannot_open_or_add_documents_of_a_project_it_does_not_own(server, as_user):
    owner = await as_user("pujiang")
    stranger = await as_user("shencheng")
    doc_id = await _document(owner)
    for target in (doc_id, str(uuid.uuid4())):
        ws = await open_ws(server.ws_url, f"/ws/docs/{target}", stranger)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 4404
    project = await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "他人项目"})
    refused = await stranger.post(
        f"/api/v1/projects/{project.json()['id']}/documents", json={"title": "不该成功"}
    )
    assert refused.status_code == 404


async def test_awareness_is_relayed_shown_to_joiners_and_a_leaving_clients_state_is_removed(server, as_user):
    owner = await as_user("pujiang")
    doc_id = await _document(owner)
    a = await YClient.connect(server.ws_url, doc_id, owner)
    b = await YClient.connect(server.ws_url, doc_id, owner)
    state = '{"user":{"name":"张敏"}}'.encode()
    # count 1, client 4242, clock 1, state: lengths in bytes (pycrdt's write_var_string counts characters)
    await a.send_awareness(b"\x01" + write_var_uint(4242) + b"\x01" + write_var_uint(len(state)) + state)
    await b.wait_for(lambda: len(b.awareness) == 1)
    assert "张敏".encode() in b.awareness[0]

    late = await YClient.connect(server.ws_url, doc_id, owner)
    await late.wait_for(lambda: len(late.awareness) == 1)  # told who is here when it connects
    assert "张敏".encode() in late.awareness[0]
    await late.send(b"\x03")  # query awareness
    await late.wait_for(lambda: len(late.awareness) == 2)
    assert "张敏".encode() in late.awareness[1]

    await a.close()
    await b.wait_for(lambda: len(b.awareness) == 2)
    assert b.awareness[1].endswith(b"\x04null")  # client 4242, clock 2, state null
    for client in (b, late):
        await client.close()


async def test_an_oversized_update_or_one_that_would_outgrow_the_document_is_refused_with_4413(env, tmp_path):
    limits = {**env, "TONGBAN_COLLAB_MAX_UPDATE_BYTES": "1024", "TONGBAN_COLLAB_MAX_DOC_BYTES": "4096"}
    child = start_server(limits, tmp_path / "limits.log")
    owner = await login(child.url, "pujiang")
    try:
        doc_id = await _document(owner)
        big = await YClient.connect(child.ws_url, doc_id, owner)
        await big.edit(0, "x" * 2000)
        assert await big.closed() == 4413

        writer = await YClient.connect(child.ws_url, doc_id, owner)
        assert writer.content == ""
        kept = ""
        while True:
            await writer.edit(0, "y" * 900)
            if not await writer.roundtrip():
                break
            kept = writer.content
        assert await writer.closed() == 4413
        fresh = await YClient.connect(child.ws_url, doc_id, owner)
        assert fresh.content == kept
        assert 3000 < len(kept) <= 4096
        await fresh.close()
    finally:
        await owner.aclose()
        child.stop()


async def test_every_200_updates_the_document_is_snapshotted_as_one_update_of_its_whole_state(
    server, as_user, pool
):
    owner = await as_user("pujiang")
    doc_id = await _document(owner)
    writer = await YClient.connect(server.ws_url, doc_id, owner)
    for n in range(205):
        # stay within the per-client message budget (burst 200, refilled 50/s) however fast we run
        if n == 120:
            await asyncio.sleep(1.2)
        await writer.edit(0, f"{n % 10}")
    assert await writer.roundtrip()
    async with pool.acquire() as conn:
        snapshot = await conn.fetchrow(
            "SELECT seq, state FROM actor_snapshot WHERE actor_kind = 'doc' AND actor_id = $1",
            uuid.UUID(doc_id),
        )
    assert snapshot["seq"] == 200
    compacted = Doc()
    compacted.apply_update(base64.b64decode(snapshot["state"]["state"]["update"]))
    assert str(compacted.get("text", type=Text)) == writer.content[5:]  # the first 200 of 205 edits
    fresh = await YClient.connect(server.ws_url, doc_id, owner)
    assert fresh.content == writer.content
    for client in (writer, fresh):
        await client.close()


async def test_editors_on_two_server_nodes_converge(env, tmp_path):
    nodes = [
        start_server({**env, "TONGBAN_NODE_ID": f"doc-node-{n}"}, tmp_path / f"doc-node-{n}.log")
        for n in "ab"
    ]
    try:
        owner_a = await login(nodes[0].url, "pujiang")
        owner_b = await login(nodes[1].url, "pujiang_agent")
        doc_id = await _document(owner_a)
        a = await YClient.connect(nodes[0].ws_url, doc_id, owner_a)
        b = await YClient.connect(nodes[1].ws_url, doc_id, owner_b)
        watcher_b = await YClient.connect(nodes[1].ws_url, doc_id, owner_b)  # a reader on the other node

        async def type_into(client: YClient, word: str) -> None:
            for char in word:
                await client.edit(0, char)
                await asyncio.sleep(0.01)

        await asyncio.gather(type_into(a, "甲节点" * 4), type_into(b, "乙节点" * 4))
        for client in (a, b, watcher_b):
            await client.wait_for(lambda c=client: len(c.content) == 24)
        assert a.content == b.content == watcher_b.content
        assert sorted(a.content) == sorted("甲节点" * 4 + "乙节点" * 4)
        for client in (a, b, watcher_b):
            await client.close()
        await owner_a.aclose()
        await owner_b.aclose()
    finally:
        for node in nodes:
            node.stop()


async def test_a_client_flooding_messages_is_closed_with_4429_and_the_other_clients_are_unaffected(
    env, tmp_path
):
    child = start_server(
        {**env, "TONGBAN_COLLAB_CLIENT_RATE": "5", "TONGBAN_COLLAB_CLIENT_BURST": "20"}, tmp_path / "s.log"
    )
    try:
        owner = await login(child.url, "pujiang")
        doc_id = await _document(owner)
        flooder = await YClient.connect(child.ws_url, doc_id, owner)
        calm = await YClient.connect(child.ws_url, doc_id, owner)
        with contextlib.suppress(ConnectionClosed):
            for n in range(200):
                await flooder.edit(0, str(n % 10))
        assert await flooder.closed() == 4429
        assert await calm.roundtrip()  # the calm client now holds the server's whole document
        assert 0 < len(calm.content) < 200  # what got through within the budget, no more
        await calm.edit(0, "稳")  # the other client is unaffected
        assert await calm.roundtrip()
        late = await YClient.connect(child.ws_url, doc_id, owner)
        assert late.content == calm.content
        for client in (calm, late):
            await client.close()
        await owner.aclose()
    finally:
        child.stop()


async def test_a_client_that_stops_reading_is_dropped_while_the_others_keep_up_and_it_resyncs_on_return(
    env, tmp_path
):
    server = start_server(
        {
            **env,
            "TONGBAN_WS_STALL_S": "1",
            "TONGBAN_WS_SEND_BUFFER_BYTES": "16384",
            "TONGBAN_COLLAB_CLIENT_RATE": "10000",
            "TONGBAN_COLLAB_CLIENT_BURST": "10000",
        },
        tmp_path / "server.log",
    )
    try:
        owner = await login(server.url, "pujiang")
        doc_id = await _document(owner)
        editor = await YClient.connect(server.ws_url, doc_id, owner)
        neighbour = await YClient.connect(server.ws_url, doc_id, owner)
        # A client that hangs: it stops reading once 2 messages wait unread, and its socket buffers
        # little, so the server's writes back up within a few hundred KB.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sleeper = await connect(
            f"{server.ws_url}/ws/docs/{doc_id}",
            sock=sock,
            max_queue=2,
            additional_headers=cookie_header(owner),
        )
        for n in range(400):
            await editor.edit(0, f"{n:04d}" + "设计说明" * 100)  # ~1.2 KB an update
            if n % 50 == 49:
                await editor.roundtrip()
        async with asyncio.timeout(10):  # a send blocked for TONGBAN_WS_STALL_S: the server gives up …
            while "collab.stalled" not in server.output():  # noqa: ASYNC110 - the server's log file
                await asyncio.sleep(0.1)
        await editor.roundtrip()
        await neighbour.wait_for(lambda: neighbour.content == editor.content)  # … the neighbour kept up
        async with asyncio.timeout(10):
            with pytest.raises(ConnectionClosed):
                await _drain(sleeper)  # what it had buffered, then the end: it was dropped
        back = await YClient.connect(server.ws_url, doc_id, owner)  # reconnecting resyncs it
        assert back.content == editor.content
        for client in (editor, neighbour, back):
            await client.close()
        await owner.aclose()
    finally:
        server.stop()


async def test_an_editor_whose_session_ended_is_closed_with_4401_and_its_next_update_is_not_applied(
    env, tmp_path
):
    server = start_server({**env, "TONGBAN_COLLAB_RECHECK_S": "0.2"}, tmp_path / "server.log")
    try:
        owner = await login(server.url, "pujiang")
        leaving = await login(server.url, "pujiang")  # the same user in a second session
        doc_id = await _document(owner)
        watcher = await YClient.connect(server.ws_url, doc_id, owner)
        editor = await YClient.connect(server.ws_url, doc_id, leaving)
        await editor.edit(0, "登出前")
        await watcher.wait_for(lambda: watcher.content == "登出前")
        assert (await leaving.post("/api/v1/logout")).status_code == 200
        await asyncio.sleep(0.3)
        await editor.edit(0, "登出后")
        assert await editor.closed() == 4401
        await watcher.roundtrip()
        fresh = await YClient.connect(server.ws_url, doc_id, owner)
        assert fresh.content == watcher.content == "登出前"
        for client in (watcher, fresh, editor):
            await client.close()
        for http in (owner, leaving):
            await http.aclose()
    finally:
        server.stop()


async def test_clients_opening_a_new_document_all_at_once_are_all_synced_and_all_see_the_first_edit(
    server, as_user
):
    owner = await as_user("pujiang")
    doc_id = await _document(owner)
    clients = await asyncio.gather(*(YClient.connect(server.ws_url, doc_id, owner) for _ in range(40)))
    await clients[7].edit(0, "同时打开")
    for client in clients:
        await client.wait_for(lambda c=client: c.content == "同时打开")
    await asyncio.gather(*(client.close() for client in clients))
