"""开工一件事 end to end in real browsers, as issue 9's "done when" asks: a visitor reads the public column and
a guide; the applicant fills the one form from the project, signs it in the page with the enterprise's key
and submits it; 住建, 交通 and 水务 reviewers, each in their own browser context, work their cases in
parallel and each sees the others' status change live; 水务 asks for a correction, the applicant answers
it; every item is approved and the bundle reads 全部办结 everywhere, the public progress query included."""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.server.approval.kaigong import PUJIANG_ORG, attach_required, ready, values_for
from tests.support.processes import ServerChild
from tests.web.conftest import VIEWPORT, AsUser, Open
from tests.web.test_kaigong_apply import fill

pytestmark = pytest.mark.usefixtures("worker")
DEPARTMENTS = {"SGXK": "zhujian", "JLZL": "jiaotong", "LSPS": "shuiwu"}  # item → the reviewer who handles it


def three_department_values(project: dict[str, object]) -> dict[str, object]:
    """A 房建 project with road occupation and a 9.5 m pit (临时排水): 施工许可, 掘路占路, 临时排水 apply."""
    values = values_for(project, special_construction=False, civil_building=False)
    return {k: v for k, v in values.items() if k != "temporary_drainage"}


async def open_case(page: Page, case_id: str) -> Page:
    await page.locator(f'#queue-body tr[data-case="{case_id}"]').get_by_role("button", name="办理").click()
    panel = page.get_by_test_id("case-panel")
    await expect(panel.get_by_test_id("connection")).to_have_text("已连接")
    return panel


async def act(panel: Page, button: str, state: str, reason: str | None = None) -> None:
    if reason is not None:
        await panel.get_by_label("办理意见").fill(reason)
    await panel.get_by_role("button", name=button).click()
    await expect(panel.get_by_test_id("case-state")).to_have_text(state)


async def test_one_project_goes_from_the_public_column_through_one_signed_form_and_parallel_approval_to_completion(
    browser: Browser, server: ServerChild, open_as: Open, as_user: AsUser, pool, settings
) -> None:
    await ready(pool, settings.keys_path, settings.var_path)
    owner = await as_user("pujiang")
    code = f"2026-310115-47-01-{secrets.randbelow(10**6):06d}"
    project = (
        await owner.post("/api/v1/projects", json={"code": code, "name": "开工一件事全流程项目"})
    ).json()

    visitor_context = await browser.new_context(base_url=server.url, viewport=VIEWPORT)
    visitor = await visitor_context.new_page()
    await visitor.goto("/kaigong")
    await expect(visitor.get_by_test_id("column-flowchart")).to_contain_text("建筑工程施工许可证核发")
    await visitor.get_by_role("link", name="建筑工程施工许可证核发办事指南").click()
    await expect(visitor.locator("h1")).to_contain_text("建筑工程施工许可证核发")
    await expect(visitor.locator("main")).to_contain_text("法定")

    values = three_department_values(project)
    checked = await owner.post(
        f"/api/v1/projects/{project['id']}/kaigong/form/check", json={"values": values}
    )
    await attach_required(owner, project["id"], checked.json())  # the materials, as files already uploaded
    applicant = await open_as("pujiang", f"/projects/{project['id']}")
    await applicant.get_by_test_id("kaigong-link").click()
    await applicant.get_by_test_id("apply-link").click()
    await applicant.wait_for_url("**/kaigong/apply")
    await expect(applicant.get_by_test_id("items")).to_contain_text("请先填写项目情况")  # the form has loaded
    facts = {"project_type", "total_area", "investment_wan", "pit_depth_m", "building_use", "occupies_road"}
    await fill(applicant, {k: v for k, v in values.items() if k in facts})
    items = applicant.get_by_test_id("items")
    await expect(items.locator("li")).to_have_count(3)
    await fill(applicant, {k: v for k, v in values.items() if k not in facts})
    await expect(applicant.get_by_test_id("error-count")).to_have_text("表单已填写完整，可以签名提交")
    await expect(applicant.get_by_test_id("materials-status")).to_have_text("必交材料已齐全")
    await applicant.locator("#key-file").set_input_files(
        settings.var_path / "demo-keys" / f"{PUJIANG_ORG}.sm2.json"
    )
    await applicant.get_by_role("button", name="签名并提交").click()
    await applicant.wait_for_url(f"**/projects/{project['id']}/kaigong")
    await expect(applicant.get_by_test_id("bundle-state")).to_have_text("办理中")
    cases = {
        c["item_code"]: c["id"]
        for c in (await owner.get(f"/api/v1/projects/{project['id']}/kaigong")).json()["cases"]
    }
    assert set(cases) == set(DEPARTMENTS)

    panels = {}
    for item, login in DEPARTMENTS.items():
        panels[item] = await open_case(await open_as(login, "/kaigong/workbench"), cases[item])

    def sibling(viewer: str, item: str) -> Locator:  # another department's row, as one reviewer sees it live
        return panels[viewer].locator(f'#sibling-body tr[data-case="{cases[item]}"] [data-field="state"]')

    await act(panels["SGXK"], "受理", "已受理")
    await expect(sibling("JLZL", "SGXK")).to_have_text("已受理")  # 交通 sees 住建 accept, live
    await expect(sibling("LSPS", "SGXK")).to_have_text("已受理")
    await act(panels["LSPS"], "受理", "已受理")
    await act(panels["LSPS"], "要求补正", "补正中", "请补充基坑降水排放方案")
    await expect(sibling("SGXK", "LSPS")).to_have_text("补正中")
    await expect(sibling("JLZL", "LSPS")).to_have_text("补正中")
    await expect(applicant.get_by_test_id("corrections")).to_contain_text("请补充基坑降水排放方案")
    await expect(applicant.get_by_test_id("bundle-state")).to_have_text("补正中")
    water = applicant.locator(f'#case-body tr[data-case="{cases["LSPS"]}"]')
    await applicant.get_by_label("补正说明").fill("已补充基坑降水排放方案")
    await water.get_by_role("button", name="补正后重新提交").click()
    await expect(panels["LSPS"].get_by_test_id("case-state")).to_have_text("审查中")  # 水务 sees it live

    await act(panels["JLZL"], "受理", "已受理")
    for item in ("SGXK", "JLZL"):
        await act(panels[item], "开始审查", "审查中")
    for item in DEPARTMENTS:
        await act(panels[item], "准予许可（办结）", "已办结")
        for viewer in DEPARTMENTS:
            if viewer != item:
                await expect(sibling(viewer, item)).to_have_text("已办结")
    await expect(applicant.get_by_test_id("bundle-state")).to_have_text("全部办结")

    await visitor.goto(f"/kaigong/query?code={code}")
    await expect(visitor.locator("main")).to_contain_text("全部办结")
    await expect(visitor.get_by_test_id("progress-flowchart")).to_contain_text("已办结")
    await visitor_context.close()
