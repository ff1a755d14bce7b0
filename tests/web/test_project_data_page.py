"""The project's basic information page in a real browser: the owner fills in planning data and saves it
(a rule's error appears under its field first); a reviewing department reads it without a way to edit."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.conftest import unique_code
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, LogIn


async def test_the_owner_saves_planning_data_after_a_rule_error_and_a_reviewer_only_reads_it(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn, context
) -> None:
    owner = await as_user("pujiang")
    project = (
        await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "基本信息页面项目"})
    ).json()
    await log_in("pujiang")
    await page.goto(f"/projects/{project['id']}")
    await page.get_by_test_id("data-link").click()
    await page.get_by_label("总建筑面积（m²）").fill("40000")
    await page.get_by_label("地上建筑面积（m²）").fill("30000")
    await page.get_by_label("地下建筑面积（m²）").fill("12000")
    await page.get_by_label("用地性质").select_option("商业服务业用地")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator('[data-key="planning.total_area"] .field-error')).to_contain_text("42000")
    await page.get_by_label("总建筑面积（m²）").fill("42000")
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_test_id("data-status")).to_have_text("已保存（第 1 版）")
    saved = (await owner.get(f"/api/v1/projects/{project['id']}/data")).json()
    assert saved["sections"]["planning"]["total_area"] == 42000
    assert saved["sections"]["land"]["land_use"] == "商业服务业用地"

    await context.clear_cookies()
    await log_in("zhujian")
    await page.goto(f"/projects/{project['id']}/data")
    await expect(page.get_by_label("总建筑面积（m²）")).to_have_value("42000")
    await expect(page.get_by_label("总建筑面积（m²）")).to_be_disabled()
    await expect(page.get_by_role("button", name="保存")).to_have_count(0)
