"""Awareness (cursors, user names) across server nodes, against real server processes and Redis: editors
on two nodes see each other, a query is answered for every node, a leaver is removed everywhere, a
dead node's states go, and garbage on a document's awareness channel is dropped."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from pycrdt import write_var_uint

from collab.protocol import parse
from tests.collab.yclient import YClient, new_document
from tests.support.clients import login
from tests.support.processes import start_server


async def _document(client) -> str:
    return str((await new_document(client, "感知测试文档"))["id"])


def _update(client_id: int, clock: int, name: str) -> bytes:
    """An awareness update of one client (lengths in bytes: pycrdt's write_var_string counts characters)."""
    state = json.dumps({"user": {"name": name, "color": "#d4380d"}}, ensure_ascii=False).encode()
    return b"\x01" + write_var_uint(client_id) + write_var_uint(clock) + write_var_uint(len(state)) + state


def _frame(client_id: int, clock: int, name: str) -> bytes:
    update = _update(client_id, clock, name)
    return b"\x01" + write_var_uint(len(update)) + update


def _seen(client: YClient) -> dict[int, tuple[int, str]]:
    """client id → (clock, state) of the latest awareness entry `client` received for it."""
    seen: dict[int, tuple[int, str]] = {}
    for payload in client.awareness:
        for entry in parse(b"\x01" + payload).entries:
            seen[entry.client_id] = (entry.clock, entry.state)
    return seen


def _name(client: YClient, client_id: int) -> str | None:
    state = _seen(client).get(client_id, (0, "null"))[1]
    return None if state == "null" else json.loads(state)["user"]["name"]


async def test_editors_on_two_nodes_see_each_others_awareness_a_query_is_answered_for_both_and_a_leaver_is_removed(
    env, tmp_path: Path
):
    nodes = []
    try:
        for n in "ab":
            nodes.append(
                start_server({**env, "TONGBAN_NODE_ID": f"aw-node-{n}"}, tmp_path / f"aw-node-{n}.log")
            )
        owner_a = await login(nodes[0].url, "pujiang")
        owner_b = await login(nodes[1].url, "pujiang_agent")
        doc_id = await _document(owner_a)
        a = await YClient.connect(nodes[0].ws_url, doc_id, owner_a)
        await a.send_awareness(_update(1001, 1, "张敏"))
        await a.roundtrip()  # handled on node A before node B has any connection to the document

        b = await YClient.connect(nodes[1].ws_url, doc_id, owner_b)  # node B asks node A for its states
        await b.wait_for(lambda: _name(b, 1001) == "张敏")
        await b.send_awareness(_update(2002, 1, "李强"))
        await a.wait_for(lambda: _name(a, 2002) == "李强")
        await b.send_awareness(_update(2002, 2, "李强（审图中）"))  # every keystroke moves the cursor
        await a.wait_for(lambda: _name(a, 2002) == "李强（审图中）")

        late = await YClient.connect(nodes[1].ws_url, doc_id, owner_b)
        await late.send(b"\x03")  # query awareness: answered on node B for both nodes
        await late.wait_for(lambda: _name(late, 1001) == "张敏" and _name(late, 2002) == "李强（审图中）")

        await a.close()
        for client in (b, late):
            await client.wait_for(lambda c=client: _seen(c).get(1001) == (2, "null"))
        again = await YClient.connect(nodes[1].ws_url, doc_id, owner_b)
        await again.send(b"\x03")
        await again.wait_for(lambda: _name(again, 2002) == "李强（审图中）")
        assert 1001 not in _seen(again)  # removed on node B too, not only at its clients
        for client in (b, late, again):
            await client.close()
        await owner_a.aclose()
        await owner_b.aclose()
    finally:
        for node in nodes:
            node.stop()


async def test_garbage_on_a_documents_awareness_channel_is_dropped_and_a_dead_nodes_states_are_removed(
    server, as_user, redis, redis_prefix
):
    owner = await as_user("pujiang")
    doc_id = await _document(owner)
    editor = await YClient.connect(server.ws_url, doc_id, owner)
    channel = f"{redis_prefix}raw:aw:{doc_id}"
    for garbage in (
        b"no separators at all",
        b"ghost-node|x|" + _frame(7, 1, "未知类型"),
        b"ghost-node|u|\x01\x05\x01",  # a truncated awareness frame
        b"ghost-node|u|\x00\x02\x00",  # a sync frame, not awareness
        b"ghost-node|u|\x01" + write_var_uint(70_000) + b"\x00" * 70_000,  # over the size limit
    ):
        await redis.publish(channel, garbage)
    # Then a node without a lease (as one whose lease expired): its client is seen, then removed.
    await redis.publish(channel, b"ghost-node|u|" + _frame(3003, 4, "王芳"))
    await editor.wait_for(lambda: _name(editor, 3003) == "王芳")
    assert set(_seen(editor)) == {3003}  # nothing of the garbage reached the client
    await editor.wait_for(lambda: _seen(editor).get(3003) == (5, "null"), timeout=15)
    late = await YClient.connect(server.ws_url, doc_id, owner)
    await late.send(b"\x03")
    await editor.send_awareness(_update(1001, 1, "张敏"))
    await late.wait_for(lambda: _name(late, 1001) == "张敏")
    assert 3003 not in _seen(late)  # forgotten by the node, not only by its clients
    log = server.output()
    assert log.count("collab.awareness_malformed") >= 4
    assert "collab.awareness_too_large" in log
    for client in (editor, late):
        await client.close()


async def test_a_node_alone_with_a_document_publishes_no_awareness_until_another_node_opens_it(
    server, as_user, redis, redis_prefix
):
    owner = await as_user("pujiang")
    doc_id = await _document(owner)
    channel = f"{redis_prefix}raw:aw:{doc_id}"
    heard: list[bytes] = []
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)

    async def listen() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                heard.append(message["data"])

    async def hear(part: bytes) -> None:
        async with asyncio.timeout(10):
            while not any(part in m for m in heard):  # noqa: ASYNC110 - filled from Redis by `listen`
                await asyncio.sleep(0.05)

    listening = asyncio.create_task(listen())
    try:
        a = await YClient.connect(server.ws_url, doc_id, owner)
        b = await YClient.connect(server.ws_url, doc_id, owner)
        for clock in range(1, 6):
            await a.send_awareness(_update(1001, clock, "张敏"))
        await b.wait_for(lambda: _seen(b).get(1001, (0, ""))[0] == 5)  # relayed on the node
        assert [m for m in heard if b"|u|" in m] == []  # … and nothing sent to Redis: nobody listens
        # Another node opens the document: it asks (q), and from then on this node publishes.
        await redis.publish(channel, b"other-node|q|")
        await hear("张敏".encode())  # the answer: this node's clients' states
        await a.send_awareness(_update(1001, 6, "张敏（编辑中）"))
        await hear("张敏（编辑中）".encode())
        await redis.publish(channel, b"other-node|b|")  # it closed the document again
        await asyncio.sleep(0.5)  # delivered through Redis to the node meanwhile
        count = len(heard)
        await a.send_awareness(_update(1001, 7, "张敏"))
        await b.wait_for(lambda: _seen(b).get(1001, (0, ""))[0] == 7)
        await asyncio.sleep(0.2)
        assert len(heard) == count
        for client in (a, b):
            await client.close()
    finally:
        listening.cancel()
        await pubsub.aclose()
