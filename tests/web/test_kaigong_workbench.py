"""The 开工一件事 approval workbench and the applicant's progress page in real browsers: the water (水务)
and roads (交通) reviewers and the applicant, each in their own browser context, on one submitted project.
水务 claims, accepts and asks for a correction; 交通's open case panel and the applicant's progress page
show it live; the applicant answers it and 水务 approves; the applicant withdraws 交通's item and 交通's
panel follows. The queue puts the earlier due date first; another department's case and the wrong roles
are refused in Chinese."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.server.approval.kaigong import attach_required, ready, signed_submission, values_for
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, Open


@pytest.fixture
async def key(pool: Any, settings: Any) -> dict[str, Any]:
    return await ready(pool, settings.keys_path, settings.var_path)


async def submitted_project(owner: httpx.AsyncClient, key: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A project of pujiang's with 开工一件事 submitted: its id and its case ids by item code."""
    code = f"2026-310115-47-01-{secrets.randbelow(10**6):06d}"  # GB/T 40058-2021 structure
    created = await owner.post("/api/v1/projects", json={"code": code, "name": "工作台联审项目"})
    assert created.status_code == 201, created.text
    project = created.json()
    values = values_for(project)
    form = (
        await owner.post(f"/api/v1/projects/{project['id']}/kaigong/form/check", json={"values": values})
    ).json()
    attached = await attach_required(owner, project["id"], form)
    body = signed_submission(form, project["id"], values, key, attached)
    submitted = await owner.post(
        f"/api/v1/projects/{project['id']}/kaigong/applications",
        json=body,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert submitted.status_code == 201, submitted.text
    return project["id"], {c["item_code"]: c["id"] for c in submitted.json()["cases"]}


async def test_three_parties_see_a_correction_round_live_and_the_bundle_moves_on(
    open_as: Open, as_user: AsUser, key: dict[str, Any]
) -> None:
    project_id, cases = await submitted_project(await as_user("pujiang"), key)
    lsps, jlzl = cases["LSPS"], cases["JLZL"]

    roads = await open_as("jiaotong", "/kaigong/workbench")
    await roads.locator(f'#queue-body tr[data-case="{jlzl}"]').get_by_role("button", name="办理").click()
    panel = roads.get_by_test_id("case-panel")
    await expect(panel.get_by_test_id("connection")).to_have_text("已连接")
    await expect(panel.get_by_test_id("case-state")).to_have_text("已提交")
    roads_water = panel.locator(f'#sibling-body tr[data-case="{lsps}"]')
    await expect(roads_water).to_contain_text("上海市水务局")
    await expect(roads_water.locator('[data-field="state"]')).to_have_text("已提交")

    applicant = await open_as("pujiang", f"/projects/{project_id}/kaigong")
    await expect(applicant.get_by_test_id("connection")).to_have_text("已连接")
    await expect(applicant.get_by_test_id("bundle-state")).to_have_text("办理中")
    applicant_water = applicant.locator(f'#case-body tr[data-case="{lsps}"]')
    await expect(applicant_water.locator('[data-field="state"]')).to_have_text("已提交")

    water = await open_as("shuiwu", "/kaigong/workbench")
    row = water.locator(f'#queue-body tr[data-case="{lsps}"]')
    await row.get_by_role("button", name="认领").click()
    await expect(row.locator('[data-field="claim"]')).to_have_text("本人已认领")
    await row.get_by_role("button", name="办理").click()
    water_panel = water.get_by_test_id("case-panel")
    await expect(water_panel.get_by_test_id("connection")).to_have_text("已连接")
    materials = water_panel.get_by_test_id("case-materials")
    await expect(materials.locator("li")).to_have_count(3)  # 临时排水's own materials, each with its file
    await expect(materials.get_by_role("link", name="PS01.pdf")).to_have_attribute(
        "href", re.compile(rf"^/api/v1/kaigong/cases/{lsps}/materials/[0-9a-f]{{64}}$")
    )
    await water_panel.get_by_role("button", name="受理").click()
    await expect(water_panel.get_by_test_id("case-state")).to_have_text("已受理")
    await expect(water_panel.get_by_test_id("case-deadline")).to_have_text("正常")

    await water_panel.get_by_role("button", name="要求补正").click()  # no reason: the server says why not
    await expect(water_panel.get_by_test_id("case-error")).to_contain_text("须填写理由")
    await water_panel.get_by_label("办理意见").fill("请补充排水口位置图")
    await water_panel.get_by_role("button", name="要求补正").click()
    await expect(water_panel.get_by_test_id("case-state")).to_have_text("补正中")
    await expect(water_panel.get_by_test_id("case-deadline")).to_have_text("计时暂停（补正中）")
    await expect(water_panel.get_by_test_id("case-due")).to_have_text("补正后重新计算")

    # 交通's panel, open all along, follows 水务's case without a reload.
    await expect(roads_water.locator('[data-field="state"]')).to_have_text("补正中")
    await expect(roads_water.locator('[data-field="last"]')).to_have_text("要求补正：请补充排水口位置图")

    await expect(applicant_water.locator('[data-field="state"]')).to_have_text("补正中")
    await expect(applicant.get_by_test_id("corrections")).to_contain_text("请补充排水口位置图")
    await expect(applicant.get_by_test_id("bundle-state")).to_have_text("补正中")
    await applicant.get_by_label("补正说明").fill("已补充排水口位置图（附件 2）")
    await applicant_water.get_by_role("button", name="补正后重新提交").click()
    await expect(applicant_water.locator('[data-field="state"]')).to_have_text("审查中")
    await expect(applicant.get_by_test_id("corrections")).to_be_hidden()
    await expect(applicant.get_by_test_id("bundle-state")).to_have_text("办理中")

    await expect(water_panel.get_by_test_id("case-state")).to_have_text(
        "审查中"
    )  # live: the applicant answered
    await expect(water_panel.get_by_test_id("case-last")).to_contain_text("已补充排水口位置图")
    # The pause covers today (both ends count): the clock runs again from tomorrow, on a known due date.
    await expect(water_panel.get_by_test_id("case-due")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    await water_panel.get_by_role("button", name="准予许可（办结）").click()
    await expect(water_panel.get_by_test_id("case-state")).to_have_text("已办结")
    await expect(water_panel.get_by_test_id("case-actions")).to_contain_text("本办件已办结")
    await expect(applicant_water.locator('[data-field="state"]')).to_have_text("已办结")
    await expect(applicant_water.locator(".deadline")).to_have_text("已办结")
    await expect(roads_water.locator('[data-field="state"]')).to_have_text("已办结")

    # The applicant withdraws 交通's item; 交通's panel shows its own case withdrawn, with nothing to do.
    applicant_roads = applicant.locator(f'#case-body tr[data-case="{jlzl}"]')
    applicant.once("dialog", lambda dialog: dialog.accept())
    await applicant_roads.get_by_role("button", name="撤回").click()
    await expect(applicant_roads.locator('[data-field="state"]')).to_have_text("已撤回")
    await expect(panel.get_by_test_id("case-state")).to_have_text("已撤回")
    await expect(panel.get_by_test_id("case-actions").get_by_role("button")).to_have_count(0)
    await expect(roads.locator(f'#queue-body tr[data-case="{jlzl}"]')).to_have_count(0)  # left the 待办 queue


async def test_the_queue_puts_the_earlier_due_date_first_and_another_departments_case_is_refused(
    open_as: Open, as_user: AsUser, key: dict[str, Any]
) -> None:
    project_id, cases = await submitted_project(await as_user("pujiang"), key)
    housing = await as_user("zhujian")
    act = "/api/v1/kaigong/cases/{}/department-actions"
    for item in ("XFSJ", "SGXK"):  # accepted today: 承诺 10 and 5 working days
        accepted = await housing.post(act.format(cases[item]), json={"action": "accept"})
        assert accepted.status_code == 200, accepted.text

    page = await open_as("zhujian", "/kaigong/workbench")
    rows = page.locator(f'#queue-body tr[data-project="{project_id}"]')
    await expect(rows).to_have_count(2)
    assert [await r.get_attribute("data-item") for r in await rows.all()] == ["SGXK", "XFSJ"]
    await expect(rows.first.locator(".deadline")).to_have_text("正常")
    await page.get_by_label("办件状态").select_option(label="已提交")
    await expect(rows).to_have_count(0)
    await page.get_by_label("办件状态").select_option(label="全部")
    await expect(rows).to_have_count(2)

    roads = await as_user("jiaotong")
    refused = await roads.post(act.format(cases["XFSJ"]), json={"action": "approve"})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "只能办理本部门的办件"
    claimed = await roads.post(f"/api/v1/kaigong/cases/{cases['XFSJ']}/claim", json={})
    assert claimed.status_code == 403


async def test_the_pages_answer_the_wrong_roles_with_a_refusal_or_not_found(
    server: ServerChild, as_user: AsUser, key: dict[str, Any]
) -> None:
    project_id, _cases = await submitted_project(await as_user("pujiang"), key)
    progress = f"/projects/{project_id}/kaigong"
    owner, other, expert, water = [await as_user(n) for n in ("pujiang", "shencheng", "expert", "shuiwu")]

    assert (await owner.get("/kaigong/workbench")).status_code == 403  # an applicant handles no cases
    assert (await expert.get(progress)).status_code == 403  # no project.read
    hidden = await other.get(progress)  # another enterprise's project does not exist for shencheng
    assert hidden.status_code == 404
    assert "工作台联审项目" not in hidden.text
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get(progress)).status_code == 303

    mine = await owner.get(progress)
    assert mine.status_code == 200
    assert 'data-may-apply="true"' in mine.text
    assert "排水管网许可" in mine.text
    seen = await water.get(progress)  # a department reads every project but acts for nobody there
    assert seen.status_code == 200
    assert 'data-may-apply="false"' in seen.text
    bench = await water.get("/kaigong/workbench")
    assert bench.status_code == 200
    assert "审批工作台 · 上海市水务局" in bench.text
