"""The one form of 开工一件事 in a real browser: the facts decide the items live, registry data is prefilled,
a wrong value is flagged under its field as it is typed, a material is uploaded in the page and another
linked from an earlier project, the draft survives a reload, and the form is signed in the page with the
enterprise's key file (sm-crypto) and submitted: the server verifies the signature (over the materials'
SM3s too) and opens one case per item, whose department sees those files."""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import Page, expect

from server.security.gm import sm3_hex
from tests.server.approval.kaigong import (
    PUJIANG_ORG,
    attach_required,
    pdf_bytes,
    ready,
    upload_material,
    values_for,
)
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, LogIn

pytestmark = pytest.mark.usefixtures("worker")
FACTS = {"special_construction", "civil_building", "temporary_drainage", "occupies_road"}


async def fill(page: Page, values: dict[str, object]) -> None:
    for key, value in values.items():
        field = page.locator(f'#kaigong-form [name="{key}"]')
        if await field.count() == 0:
            continue
        tag = await field.evaluate("e => e.tagName + ':' + (e.type || '')")
        if tag.startswith("SELECT"):
            await field.select_option(str(value))
        elif tag.endswith("checkbox"):
            await field.set_checked(bool(value))
        else:
            await field.fill(str(value))


async def test_the_one_form_is_filled_checked_live_saved_signed_in_the_page_and_submitted(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn, pool, settings
) -> None:
    await ready(pool, settings.keys_path, settings.var_path)
    owner = await as_user("pujiang")
    code = f"2026-310115-47-01-{secrets.randbelow(10**6):06d}"
    project = (
        await owner.post("/api/v1/projects", json={"code": code, "name": "一张表单页面测试项目"})
    ).json()
    earlier_code = f"2026-310115-47-01-{secrets.randbelow(10**6):06d}"
    earlier = (await owner.post("/api/v1/projects", json={"code": earlier_code, "name": "以前的项目"})).json()
    permit = pdf_bytes(f"规划许可证 {earlier_code}")
    permit_name = f"规划许可证-{earlier_code}.pdf"
    assert (await upload_material(owner, earlier["id"], "SG02", permit, permit_name)).status_code == 201
    await log_in("pujiang")
    await page.goto(f"/projects/{project['id']}/kaigong/apply")
    items = page.get_by_test_id("items")
    await expect(items).to_contain_text("请先填写项目情况")

    values = values_for(project)
    facts = FACTS | {"project_type", "total_area", "investment_wan", "pit_depth_m", "building_use"}
    await fill(page, {k: v for k, v in values.items() if k in facts})
    await expect(items.locator("li")).to_have_count(5)
    await expect(items).to_contain_text("建筑工程施工许可证核发")
    await expect(items).to_contain_text("占用、挖掘城市道路审批")
    await expect(page.locator('[name="project_code"]')).to_have_value(code)  # from the registry
    await fill(page, {k: v for k, v in values.items() if k not in facts})
    await page.locator('[name="contact_phone"]').fill("12345")
    await expect(page.locator("#e-contact_phone")).to_contain_text("格式")
    await page.locator('[name="contact_phone"]').fill("13900000002")
    await expect(page.get_by_test_id("error-count")).to_have_text("表单已填写完整，可以签名提交")
    await expect(page.get_by_test_id("draft-status")).to_contain_text("草稿已保存")

    application_form = pdf_bytes(f"施工许可申请表 {code}")
    await page.locator("#m-SG01").set_input_files(
        {"name": "施工许可申请表.pdf", "mimeType": "application/pdf", "buffer": application_form}
    )
    await expect(page.get_by_test_id("files-SG01")).to_contain_text("施工许可申请表.pdf")
    await expect(page.locator("#s-SG01")).to_contain_text("已上传")
    await page.locator("#m-SG03").set_input_files(
        {"name": "合同.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"}
    )
    await expect(page.locator("#s-SG03")).to_contain_text("文件类型不允许")  # refused, said in Chinese
    sg02 = page.locator('#materials li[data-material="SG02"]')
    await sg02.get_by_role("button", name=f"使用以前提交的材料：{permit_name}").click()
    await expect(page.get_by_test_id("files-SG02")).to_contain_text("沿用以前提交的材料")
    await expect(page.get_by_test_id("materials-status")).to_contain_text("还缺")
    await page.get_by_role("button", name="签名并提交").click()
    await expect(page.get_by_test_id("submit-error")).to_contain_text("还缺少必交的申报材料")

    form = (
        await owner.post(f"/api/v1/projects/{project['id']}/kaigong/form/check", json={"values": values})
    ).json()
    await attach_required(owner, project["id"], form)  # the rest, as files uploaded before
    await page.reload()  # the draft is on the server: nothing typed is lost
    await expect(page.locator('[name="road_name"]')).to_have_value("张江路")
    await expect(items.locator("li")).to_have_count(5)
    await expect(page.get_by_test_id("materials-status")).to_have_text("必交材料已齐全")

    key_file = settings.var_path / "demo-keys" / f"{PUJIANG_ORG}.sm2.json"
    await page.locator("#key-file").set_input_files(key_file)
    await expect(page.get_by_test_id("key-status")).to_contain_text("已载入证书")
    await page.get_by_role("button", name="签名并提交").click()
    await page.wait_for_url(f"**/projects/{project['id']}/kaigong")
    progress = (await owner.get(f"/api/v1/projects/{project['id']}/kaigong")).json()
    assert sorted(c["item_code"] for c in progress["cases"]) == ["JLZL", "LSPS", "MFJS", "SGXK", "XFSJ"]
    assert progress["bundle_state"] == "in_progress"
    housing = await as_user("zhujian")
    sgxk = next(c["id"] for c in progress["cases"] if c["item_code"] == "SGXK")
    part = (await housing.get(f"/api/v1/kaigong/cases/{sgxk}/form")).json()
    files = {m["code"]: m["files"] for m in part["materials"]}
    assert [(f["file_name"], f["sm3"]) for f in files["SG01"]] == [
        ("施工许可申请表.pdf", sm3_hex(application_form))
    ]
    assert [(f["file_name"], f["sm3"]) for f in files["SG02"]] == [(permit_name, sm3_hex(permit))]
    assert (await housing.get(files["SG01"][0]["url"])).content == application_form
