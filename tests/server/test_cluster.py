"""Several real server processes (nodes) sharing PostgreSQL and Redis: an actor runs on exactly one of
them, requests and websocket events cross nodes, and when the owner is killed with SIGKILL another node
takes the actor over within the lease time, losing no acknowledged change."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from redis.asyncio import Redis

from server.seed import stable_id
from tests.conftest import unique_code
from tests.support.clients import login, next_frame, open_ws
from tests.support.processes import ServerChild, start_server

XF = str(stable_id("org", "DEPT-XF"))
LEASE_S = 1.5


@pytest.fixture
def nodes(env, tmp_path):
    children = [
        start_server(
            {**env, "TONGBAN_NODE_ID": f"node-{name}", "TONGBAN_ACTOR_LEASE_TTL_S": str(LEASE_S)},
            tmp_path / f"{name}.log",
        )
        for name in ("a", "b")
    ]
    yield dict(zip(("a", "b"), children, strict=True))
    for child in children:
        child.stop()


async def _owner(redis: Redis, prefix: str, project_id: str) -> str:
    value = await redis.get(f"{prefix}owner:project:{project_id}")
    assert value is not None
    return value.decode().split()[0].removeprefix("node-")


async def test_a_killed_owner_node_is_replaced_within_the_lease_and_no_acknowledged_change_is_lost(
    nodes: dict[str, ServerChild], redis: Redis, settings
):
    a = await login(nodes["a"].url, "pujiang")
    created = await a.post("/api/v1/projects", json={"code": unique_code(), "name": "多节点测试项目"})
    assert created.status_code == 201
    project_id = created.json()["id"]
    dispatch = await a.post(
        f"/api/v1/projects/{project_id}/approval",
        json={"tasks": [{"dept_org_id": XF, "item": "消防设计审查", "limit_workdays": 10}]},
    )
    assert dispatch.status_code == 200
    owner = await _owner(redis, settings.redis_prefix, project_id)
    survivor = "b" if owner == "a" else "a"

    # A subscriber on the survivor sees changes made through the owner (events cross nodes).
    watcher = await login(nodes[survivor].url, "pujiang")
    ws = await open_ws(nodes[survivor].ws_url, f"/ws/projects/{project_id}", watcher)
    snapshot = await next_frame(ws)
    assert snapshot["type"] == "snapshot"
    reviewer_owner = await login(nodes[owner].url, "xiaofang")
    reviewer = await login(nodes[survivor].url, "xiaofang")
    acknowledged = []
    for n in range(3):
        response = await reviewer_owner.put(
            f"/api/v1/projects/{project_id}/tasks/{XF}", json={"status": "in_review", "note": f"意见 {n}"}
        )
        assert response.status_code == 200
        acknowledged.append(response.json()["seq"])
    seen = [(await next_frame(ws))["seq"] for _ in range(3)]
    assert seen == acknowledged

    nodes[owner].proc.send_signal(signal.SIGKILL)
    nodes[owner].proc.wait()
    started = time.monotonic()
    answered_after = None
    for n in range(100):  # one request every 100 ms, as a user retrying would
        response = await reviewer.put(
            f"/api/v1/projects/{project_id}/tasks/{XF}", json={"status": "in_review", "note": f"接管后 {n}"}
        )
        if response.status_code == 200:
            answered_after = time.monotonic() - started
            acknowledged.append(response.json()["seq"])
            break
        assert response.status_code in (503, 504), response.text
        await asyncio.sleep(0.1)
    assert answered_after is not None
    assert answered_after < LEASE_S + 5
    assert await _owner(redis, settings.redis_prefix, project_id) == survivor
    # The subscriber on the survivor never lost its connection and sees the new owner's event next.
    frame = await next_frame(ws)
    assert frame["seq"] == acknowledged[-1] == acknowledged[-2] + 1
    state = (await reviewer.get(f"/api/v1/projects/{project_id}")).json()
    assert state["seq"] == acknowledged[-1]
    assert state["tasks"][0]["note"].startswith("接管后")
    await ws.close()
    for client in (a, watcher, reviewer_owner, reviewer):
        await client.aclose()
