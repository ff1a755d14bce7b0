"""The status board of the parallel approval: the owner dispatches the project to several departments
at once, each department moves only its own task, and deadlines turn yellow (due soon) and red
(overdue) by durable timers, every change pushed live to the project's subscribers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from server import clock, workdays
from server.seed import stable_id
from tests.conftest import unique_code
from tests.support.clients import next_frame, open_ws

ZJW, XF, SW = (str(stable_id("org", c)) for c in ("DEPT-ZJW", "DEPT-XF", "DEPT-SW"))


async def _project(owner) -> str:
    response = await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "并联审批测试项目"})
    assert response.status_code == 201
    return str(response.json()["id"])


async def _events_until(ws, wanted: set[tuple[str, str]], timeout: float = 15.0) -> list[dict]:
    """Frames until every (type, department) in `wanted` was seen."""
    seen: list[dict] = []
    async with asyncio.timeout(timeout):
        while wanted - {(f["type"], f["data"].get("dept_org_id", "")) for f in seen}:
            seen.append(await next_frame(ws))
    return seen


async def test_deadlines_turn_yellow_and_red_live_and_a_finished_task_stops_its_clock(server, as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    ws = await open_ws(server.ws_url, f"/ws/projects/{project_id}", owner)
    assert (await next_frame(ws))["type"] == "snapshot"
    today = clock.today()
    long_ago = today - timedelta(days=40)
    response = await owner.post(
        f"/api/v1/projects/{project_id}/approval",
        json={
            "accepted_on": long_ago.isoformat(),
            "tasks": [
                {"dept_org_id": XF, "item": "消防设计审查", "limit_workdays": 3},  # long overdue
            ],
        },
    )
    assert response.status_code == 200, response.text
    board = {t["dept_org_id"]: t for t in response.json()["tasks"]}
    assert board[XF]["due_on"] == workdays.add_workdays(long_ago, 3).isoformat()
    assert board[XF]["deadline_state"] == "overdue"
    assert board[XF]["deadline_label"] == "已超期"
    frames = await _events_until(ws, {("project.approval_started", ""), ("project.deadline_changed", XF)})
    changed = next(f for f in frames if f["type"] == "project.deadline_changed")
    assert changed["data"] == {"dept_org_id": XF, "alert": "overdue"}

    reviewer = await as_user("xiaofang")  # 消防救援总队
    done = await reviewer.put(f"/api/v1/projects/{project_id}/tasks/{XF}", json={"status": "approved"})
    assert done.status_code == 200, done.text
    task = next(t for t in done.json()["tasks"] if t["dept_org_id"] == XF)
    assert (task["status_label"], task["deadline_state"]) == ("已通过", "done")
    update = await _events_until(ws, {("project.task_updated", XF)})
    assert update[-1]["data"]["status"] == "approved"
    again = await reviewer.put(f"/api/v1/projects/{project_id}/tasks/{XF}", json={"status": "returned"})
    assert again.status_code == 409  # a finished task stays finished
    await ws.close()


async def test_a_task_with_time_left_is_on_time_and_its_timer_waits_for_the_first_yellow_day(
    server, as_user, pool
):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    response = await owner.post(
        f"/api/v1/projects/{project_id}/approval",
        json={"tasks": [{"dept_org_id": ZJW, "item": "施工许可", "limit_workdays": 8}]},
    )
    assert response.status_code == 200, response.text
    task = response.json()["tasks"][0]
    today = clock.today()
    due_on = workdays.add_workdays(today, 8)
    assert (task["due_on"], task["deadline_state"], task["deadline_label"]) == (
        due_on.isoformat(),
        "on_time",
        "正常",
    )
    yellow_day = next(
        today + timedelta(days=n) for n in range(1, 30)
        if workdays.deadline_state(due_on, today + timedelta(days=n)) == "due_soon"
    )  # fmt: skip
    async with pool.acquire() as conn:
        fire_at = await conn.fetchval(
            "SELECT fire_at FROM actor_timer WHERE actor_id = $1 AND key = $2",
            uuid.UUID(project_id),
            f"deadline:{ZJW}",
        )
    assert fire_at == clock.start_of(yellow_day)


async def test_a_task_due_within_three_working_days_is_yellow_at_once(server, as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    ws = await open_ws(server.ws_url, f"/ws/projects/{project_id}", owner)
    await next_frame(ws)
    response = await owner.post(
        f"/api/v1/projects/{project_id}/approval",
        json={"tasks": [{"dept_org_id": SW, "item": "排水许可", "limit_workdays": 2}]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["tasks"][0]["deadline_label"] == "即将到期"
    frames = await _events_until(ws, {("project.deadline_changed", SW)})
    assert frames[-1]["data"]["alert"] == "due_soon"
    await ws.close()


async def test_a_department_cannot_touch_another_departments_task_nor_an_enterprise_another_project(
    server, as_user
):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    response = await owner.post(
        f"/api/v1/projects/{project_id}/approval",
        json={"tasks": [{"dept_org_id": XF, "item": "消防设计审查", "limit_workdays": 10}]},
    )
    assert response.status_code == 200
    zhujian = await as_user("zhujian")  # 住建委 reviewer, not 消防
    assert (
        await zhujian.put(f"/api/v1/projects/{project_id}/tasks/{XF}", json={"status": "approved"})
    ).status_code == 404
    assert (
        await zhujian.put(f"/api/v1/projects/{project_id}/tasks/{ZJW}", json={"status": "approved"})
    ).status_code == 404
    other = await as_user("shencheng")  # another enterprise
    dispatch = await other.post(
        f"/api/v1/projects/{project_id}/approval",
        json={"tasks": [{"dept_org_id": SW, "item": "排水许可", "limit_workdays": 5}]},
    )
    assert dispatch.status_code == 404
    state = (await owner.get(f"/api/v1/projects/{project_id}")).json()
    assert [(t["dept_org_id"], t["status"]) for t in state["tasks"]] == [(XF, "pending")]  # untouched


async def test_dispatching_bad_departments_or_twice_is_refused_and_changes_nothing(server, as_user):
    owner = await as_user("pujiang")
    project_id = await _project(owner)
    enterprise = str(stable_id("org", "91310104MA1FR3CD7Y"))
    cases = [
        ({"tasks": [{"dept_org_id": enterprise, "item": "施工许可", "limit_workdays": 5}]}, 422),
        ({"tasks": [{"dept_org_id": ZJW, "item": "施工许可", "limit_workdays": 0}]}, 422),
        ({"tasks": []}, 422),
        ({"tasks": [{"dept_org_id": ZJW, "item": "a", "limit_workdays": 5}] * 2}, 422),
        ({"tasks": [{"dept_org_id": ZJW, "item": "施工许可", "limit_workdays": 5}], "extra": 1}, 422),
    ]
    for body, status in cases:
        response = await owner.post(f"/api/v1/projects/{project_id}/approval", json=body)
        assert response.status_code == status, (body, response.text)
        assert set(response.json()["error"]) >= {"code", "message"}
    good = {"tasks": [{"dept_org_id": ZJW, "item": "施工许可", "limit_workdays": 5}]}
    assert (await owner.post(f"/api/v1/projects/{project_id}/approval", json=good)).status_code == 200
    twice = await owner.post(f"/api/v1/projects/{project_id}/approval", json=good)
    assert twice.status_code == 409
    assert len((await owner.get(f"/api/v1/projects/{project_id}")).json()["tasks"]) == 1
