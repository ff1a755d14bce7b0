"""The public 开工一件事 column in a real browser, without logging in: the home page lists the items and
draws the flowchart, a guide opens from it and hands out a blank form; the progress query shows a
submitted project's items with their state in words and follows a department's action on refresh; the
consultation form names a wrong field, then stores the message, which an administrator answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.server.approval.kaigong import ready
from tests.server.approval.test_column import fresh_limits, submitted_project
from tests.web.conftest import AsUser, LogIn

__all__ = ["fresh_limits"]  # the per-IP counters start empty in every test here too


@pytest.fixture
async def key(pool, settings) -> dict[str, Any]:
    return await ready(pool, settings.keys_path, settings.var_path)


async def test_the_column_home_lists_the_items_and_draws_the_flowchart_and_a_guide_hands_out_a_blank_form(
    page: Page, key: dict[str, Any], tmp_path: Path
) -> None:
    await page.goto("/kaigong")
    await expect(page.get_by_role("heading", name="建设项目开工“一件事”")).to_be_visible()
    rows = page.locator("#column-items tbody tr")
    await expect(rows).to_have_count(7)
    await expect(rows.filter(has_text="城镇污水排入排水管网许可（临时排水）")).to_contain_text("上海市水务局")
    chart = page.get_by_test_id("column-flowchart").get_by_role("img")
    await expect(chart).to_be_visible()
    await expect(chart.locator("g.item")).to_have_count(7)
    await expect(chart.locator("path.edge")).to_have_count(2)

    await page.get_by_role("link", name="建筑工程施工许可证核发办事指南").click()
    await page.wait_for_url("**/kaigong/items/SGXK")
    await expect(page.get_by_role("heading", level=1)).to_have_text("建筑工程施工许可证核发")
    await expect(page.get_by_test_id("item-statutory")).to_have_text("7 个工作日")
    await expect(page.get_by_test_id("item-dept")).to_have_text("上海市住房和城乡建设管理委员会")
    await expect(page.locator("#materials tbody tr")).to_have_count(8)
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="下载建设资金已落实承诺书空表").click()
    download = await download_info.value
    saved = tmp_path / "blank.pdf"
    await download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert download.suggested_filename.endswith(".pdf")

    await page.get_by_role("link", name="政策图解").click()
    stages = page.get_by_role("img", name="工程建设项目审批四个阶段")
    await expect(stages.locator("g.stage")).to_have_count(4)
    await expect(stages.locator('g.stage[data-stage="3"]')).to_contain_text("开工一件事")
    await expect(page.locator("#policy-items li")).to_have_count(7)


async def test_the_query_shows_a_submitted_projects_items_with_their_state_in_words_and_refreshes(
    page: Page, as_user: AsUser, key: dict[str, Any]
) -> None:
    owner = await as_user("pujiang")
    project = await submitted_project(owner, key)
    await page.goto("/kaigong/query")
    await page.get_by_label("项目代码 / 报建编号 / 联审编号").fill("2026-3101")
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator("#code-error")).to_contain_text("项目代码")
    await expect(page.get_by_label("项目代码")).to_have_attribute("aria-invalid", "true")

    await page.get_by_label("项目代码 / 报建编号 / 联审编号").fill(project["code"])
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator("#bundle-state")).to_have_text("办理中")
    rows = page.locator("#progress-items tbody tr")
    await expect(rows).to_have_count(5)
    water = rows.filter(has_text="上海市水务局")
    await expect(water.locator(".kg-state")).to_have_text("已提交")
    await expect(water.locator(".deadline")).to_have_text("待受理，未开始计时")
    chart = page.get_by_test_id("progress-flowchart")
    await expect(chart.locator('g.item[data-code="LSPS"]')).to_contain_text("状态：已提交")

    reviewer = await as_user("shuiwu")
    acted = await reviewer.post(f"/api/v1/kaigong/cases/{project['cases']['LSPS']['id']}/department-actions",
                                json={"action": "accept"})  # fmt: skip
    assert acted.status_code == 200
    await page.get_by_role("button", name="立即刷新").click()
    await expect(water.locator(".kg-state")).to_have_text("已受理")
    await expect(water.locator(".deadline")).to_have_text("正常")
    await expect(chart.locator('g.item[data-code="LSPS"]')).to_contain_text("状态：已受理")


async def test_the_consult_form_names_a_wrong_field_then_stores_the_message_which_an_administrator_answers(
    page: Page, context: BrowserContext, log_in: LogIn, key: dict[str, Any]
) -> None:
    await page.goto("/kaigong/consult?item=LSPS")
    await expect(page.get_by_label("相关事项（可不选）")).to_have_value("LSPS")
    await page.get_by_role("radio", name="建议").check()
    await page.get_by_label("姓名").fill("赵女士")
    await page.get_by_label("手机号码").fill("1234")
    await page.get_by_label("留言内容").fill("希望临时排水许可的材料可以在线预审。")
    await expect(page.locator("#content-count")).to_contain_text("还可输入 982 字")
    await page.get_by_role("button", name="提交留言").click()
    await expect(page.locator("#phone-error")).to_have_text("手机号码应为以 13–19 开头的 11 位数字")
    await expect(page.get_by_label("手机号码")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#name-error")).to_have_text("")

    await page.get_by_label("手机号码").fill("139 1234 8765")
    await page.get_by_role("button", name="提交留言").click()
    await expect(page.locator("#consult-done")).to_contain_text("留言已提交")
    await expect(page.locator("#consult-form")).to_be_hidden()

    await log_in("admin")
    await page.goto("/admin/kaigong/messages?status=open")
    row = page.locator("#messages tbody tr").filter(has_text="希望临时排水许可的材料可以在线预审。")
    await expect(row.get_by_test_id("phone")).to_have_text("139****8765")
    await expect(row).to_contain_text("建议")
    await expect(row).to_contain_text("城镇污水排入排水管网许可（临时排水）")
    await row.get_by_label("答复内容").fill("已转水务局研究。")
    await row.get_by_role("button", name="答复").click()
    await expect(row).to_have_count(0)  # the page reloads: no longer 待处理
    await page.goto("/admin/kaigong/messages?status=replied")
    answered = page.locator("#messages tbody tr").filter(has_text="希望临时排水许可的材料可以在线预审。")
    await expect(answered.get_by_test_id("status")).to_have_text("已答复")
    await expect(answered).to_contain_text("已转水务局研究。")
