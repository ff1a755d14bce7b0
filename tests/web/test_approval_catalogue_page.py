"""The item catalogue's administration page in a real browser: a draft whose predecessors form a cycle is
refused with the cycle named; the corrected draft is published through the confirmation dialog and
becomes the published version, read-only."""

from __future__ import annotations

import json

from playwright.async_api import Page, expect

from tests.server.approval.kaigong import ready
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, LogIn

API = "/api/v1/admin/approval/catalogue"


async def test_a_cycle_is_refused_by_path_and_the_corrected_draft_is_published_after_confirmation(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn, pool, settings
) -> None:
    await ready(pool, settings.keys_path, settings.var_path)
    admin = await as_user("admin")
    listing = (await admin.get(f"{API}/versions")).json()
    draft_id = listing["draft_id"] or (await admin.post(f"{API}/drafts", json={})).json()["id"]
    await log_in("admin")
    await page.goto(f"/admin/approval/catalogue?version={draft_id}")
    editor = page.locator("#content")
    content = json.loads(await editor.input_value())
    first = content["items"][0]["code"]
    last = next(i for i in content["items"] if first in i["predecessors"])
    broken = json.loads(json.dumps(content))
    broken["items"][0]["predecessors"] = [last["code"]]  # first → last → first
    await editor.fill(json.dumps(broken, ensure_ascii=False, indent=2))
    await page.get_by_role("button", name="保存草稿").click()
    problems = page.locator("#problems")
    await expect(problems).to_contain_text("items.0.predecessors")
    await expect(problems).to_contain_text(last["code"])

    await editor.fill(json.dumps(content, ensure_ascii=False, indent=2))
    await page.get_by_role("button", name="保存草稿").click()
    await page.wait_for_url(f"**version={draft_id}")
    await page.get_by_role("button", name="发布此版本…").click()
    await page.get_by_role("button", name="确认发布").click()
    await expect(page.locator("#version-title")).to_contain_text("已发布")
    await expect(page.locator("#content-sm3")).to_have_text(json.loads(
        (await admin.get(f"{API}/versions/{draft_id}")).text)["content_sm3"])  # fmt: skip
    after = (await admin.get(f"{API}/versions")).json()
    assert after["draft_id"] is None
    assert after["latest_published"] == listing["latest_published"] + 1
