"""The project page's parallel approval board in a real browser: rows appear when the owner dispatches
the project, a department's decision and deadline colours change live, and every colour has its text."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from server import clock
from server.seed import stable_id
from tests.conftest import unique_code
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, LogIn

XF, SW = (str(stable_id("org", c)) for c in ("DEPT-XF", "DEPT-SW"))


async def test_the_board_fills_and_changes_live_as_departments_work_and_deadlines_pass(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn
) -> None:
    owner = await as_user("pujiang")
    created = await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "并联审批看板项目"})
    project_id = created.json()["id"]
    await log_in("pujiang")
    await page.goto(f"/projects/{project_id}")
    await expect(page.get_by_test_id("connection")).to_contain_text("已连接")
    board = page.get_by_test_id("board")
    await expect(board).to_contain_text("尚未发起并联审批")

    dispatch = await owner.post(
        f"/api/v1/projects/{project_id}/approval",
        json={
            "accepted_on": (clock.today() - timedelta(days=30)).isoformat(),
            "tasks": [
                {"dept_org_id": XF, "item": "消防设计审查", "limit_workdays": 3},
                {"dept_org_id": SW, "item": "排水许可", "limit_workdays": 5},
            ],
        },
    )
    assert dispatch.status_code == 200, dispatch.text
    fire = board.locator(f'tr[data-dept="{XF}"]')
    water = board.locator(f'tr[data-dept="{SW}"]')
    await expect(fire).to_contain_text("消防设计审查")
    await expect(fire.locator(".deadline")).to_have_text("已超期")  # red, by the deadline timer
    await expect(fire.locator(".deadline")).to_have_attribute("data-deadline", "overdue")
    await expect(water.locator(".deadline")).to_have_text("已超期")

    reviewer = await as_user("xiaofang")
    decided = await reviewer.put(f"/api/v1/projects/{project_id}/tasks/{XF}", json={"status": "approved"})
    assert decided.status_code == 200
    await expect(fire.locator('[data-field="status"]')).to_have_text("已通过")
    await expect(fire.locator(".deadline")).to_have_text("已办结")
    await expect(water.locator('[data-field="status"]')).to_have_text("待受理")
    await expect(page.locator("#timeline")).to_contain_text("上海市消防救援总队：已通过")

    await page.reload()  # the server-rendered board agrees with the live one
    await expect(fire.locator(".deadline")).to_have_text("已办结")
    await expect(water.locator(".deadline")).to_have_text("已超期")


async def test_a_department_reviewer_moves_only_its_own_task_from_the_page(
    page: Page, as_user: AsUser, log_in: LogIn
) -> None:
    owner = await as_user("pujiang")
    created = await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "部门办理项目"})
    project_id = created.json()["id"]
    dispatch = await owner.post(
        f"/api/v1/projects/{project_id}/approval",
        json={
            "tasks": [
                {"dept_org_id": XF, "item": "消防设计审查", "limit_workdays": 10},
                {"dept_org_id": SW, "item": "排水许可", "limit_workdays": 10},
            ]
        },
    )
    assert dispatch.status_code == 200
    await log_in("xiaofang")  # 消防救援总队
    await page.goto(f"/projects/{project_id}")
    board = page.get_by_test_id("board")
    fire = board.locator(f'tr[data-dept="{XF}"]')
    water = board.locator(f'tr[data-dept="{SW}"]')
    await expect(water.get_by_role("button")).to_have_count(0)  # another department's task
    await fire.get_by_role("button", name="受理").click()
    await expect(fire.locator('[data-field="status"]')).to_have_text("审查中")
    await fire.get_by_role("button", name="通过").click()
    await expect(fire.locator('[data-field="status"]')).to_have_text("已通过")
    await expect(fire.locator(".deadline")).to_have_text("已办结")
    await expect(fire.get_by_role("button")).to_have_count(0)  # finished: nothing more to do
    state = (await owner.get(f"/api/v1/projects/{project_id}")).json()
    assert {t["dept_org_id"]: t["status"] for t in state["tasks"]} == {XF: "approved", SW: "pending"}
