"""The live bid session page (评标会议) in a real browser: the organiser watches experts come online and
leave, their unfinished annotations, and reminders, as they happen and without a reload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Page, expect

from server.seed import stable_id
from tests.support.clients import open_ws
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, LogIn

EXPERT_ID = str(stable_id("user", "expert"))
TIMER_TIMEOUT_MS = 10_000


async def create_bid(organiser: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await organiser.post("/api/v1/bids", json={"name": name, "expert_ids": [EXPERT_ID]})
    assert response.status_code == 201, response.text
    bid: dict[str, Any] = response.json()
    return bid


async def test_the_organiser_sees_an_expert_go_online_and_offline_live_with_the_time_counted(
    page: Page, server: ServerChild, log_in: LogIn, as_user: AsUser
) -> None:
    bid = await create_bid(await as_user("bidadmin"), f"徐汇滨江办公楼监理评标 {uuid.uuid4().hex[:6]}")
    await log_in("bidadmin")
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)

    await page.goto("/bids")
    await page.get_by_role("navigation").get_by_role("link", name="评标会议").click()
    await page.get_by_role("link", name=bid["name"]).click()

    await expect(page.get_by_role("heading", name=bid["name"])).to_be_visible()
    await expect(page.get_by_test_id("connection")).to_have_text("实时连接：已连接")
    row = page.locator(f'#experts tr[data-expert-id="{EXPERT_ID}"]')
    await expect(row.locator('[data-field="name"]')).to_have_text("周*（expert）")
    status = row.locator('[data-field="status"]')
    await expect(status).to_have_text("离线")
    await expect(row.locator('[data-field="time"]')).to_have_text("0 秒")
    shown = len(loads)

    expert_ws = await open_ws(server.ws_url, f"/ws/bids/{bid['id']}", await as_user("expert"))
    try:
        await expect(status).to_have_text("在线")
        await expect(row.locator('[data-field="time"]')).not_to_have_text("0 秒")  # ticks while online
    finally:
        await expert_ws.close()

    await expect(status).to_have_text("离线")
    await expect(row.locator('[data-field="time"]')).not_to_have_text("0 秒")  # the visit was counted
    assert len(loads) == shown  # all of it without a reload


async def test_annotations_and_a_reminder_appear_on_the_page_as_they_happen(
    page: Page, log_in: LogIn, as_user: AsUser
) -> None:
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    bid = await create_bid(organiser, "前滩商业综合体幕墙工程评标")
    await log_in("bidadmin")
    await page.goto(f"/bids/{bid['id']}")
    await expect(page.get_by_test_id("connection")).to_have_text("实时连接：已连接")
    row = page.locator(f'#experts tr[data-expert-id="{EXPERT_ID}"]')
    await expect(row.locator('[data-field="open"]')).to_have_text("0")
    await expect(page.get_by_text("尚未发送提醒。")).to_be_visible()

    for _ in range(3):
        await expert.put(f"/api/v1/bids/{bid['id']}/annotations/{uuid.uuid4()}", json={"open": True})
    await expect(row.locator('[data-field="open"]')).to_have_text("3")
    at = datetime.now(UTC) + timedelta(seconds=1)
    scheduled = await organiser.post(f"/api/v1/bids/{bid['id']}/reminders", json={"at": at.isoformat()})
    assert scheduled.status_code == 200, scheduled.text

    reminder = page.locator("#reminders li")
    await expect(reminder).to_have_count(1, timeout=TIMER_TIMEOUT_MS)
    await expect(reminder).to_contain_text("提醒 周*：尚有 3 条批注未处理")
    await expect(page.get_by_text("尚未发送提醒。")).to_be_hidden()
    await expect(page.locator('[data-field="pending"]')).to_have_text("0 条")
