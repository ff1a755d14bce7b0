"""The rule-library pages in a real browser: an administrator creates a rule set, edits its draft
(a refused parameter named on its control, then a valid save recorded in the history), publishes it
after confirming, and the published version is read-only; a reader sees no editing controls."""

from __future__ import annotations

import re
import secrets

from playwright.async_api import Page, expect

from server.bim.models import DEFAULT_MAX_MODEL_BYTES
from tests.server.bim.test_rulesets import IDS_XML
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, LogIn


async def test_an_admin_edits_a_draft_saves_it_publishes_it_and_the_version_becomes_read_only(
    page: Page, server: ServerChild, log_in: LogIn, as_user: AsUser
) -> None:
    name = f"浏览器测试规则集{secrets.token_hex(3)}"
    await log_in("admin")
    await page.goto("/admin/bim/rule-sets")
    form = page.locator("#create-rule-set")
    await form.get_by_label("名称").fill(name)
    await form.get_by_label("说明（选填）").fill("页面测试")
    await form.get_by_role("button", name="新建规则集").click()
    await expect(page).to_have_url(re.compile(r"/admin/bim/rule-sets/[0-9a-f-]{36}$"))
    await expect(page.get_by_role("heading", name="第 1 版 · 草稿")).to_be_visible()

    rows = page.locator("#rules tbody tr[data-code]")
    code = await rows.first.get_attribute("data-code")
    assert code is not None
    params = page.get_by_label(f"{code} 的参数（JSON）")
    summary = page.get_by_label("修改说明")

    # A parameter the rule does not have: refused by the server, named on its control, nothing saved.
    await params.fill('{"no_such_param": 1}')
    await summary.fill("试加参数")
    await page.get_by_role("button", name="保存草稿").click()
    await expect(page.locator("#problems")).to_contain_text(f"规则 {code} 没有参数 no_such_param")
    await expect(params).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#history li")).to_have_count(1)

    # Not JSON at all: refused before sending.
    await params.fill("{不是 JSON")
    await page.get_by_role("button", name="保存草稿").click()
    await expect(page.locator("#problems")).to_contain_text(f"规则 {code} 的参数须为 JSON 对象")

    await params.fill("{}")
    await page.get_by_label(f"启用 {code}").uncheck()
    await page.get_by_label("模型文件大小上限（MB）").fill("100")
    await summary.fill(f"停用 {code}，模型上限 100 MB")
    await page.get_by_role("button", name="保存草稿").click()
    await expect(page).to_have_url(re.compile(r"\?version=[0-9a-f-]{36}&saved=1$"))
    await expect(page.locator("#saved-notice")).to_have_text("草稿已保存。")
    await expect(page.locator("#history li").first).to_contain_text(f"停用 {code}，模型上限 100 MB")
    await expect(page.locator("#history li").first).to_contain_text("admin")
    await expect(page.get_by_label(f"启用 {code}")).not_to_be_checked()

    await page.get_by_role("button", name="发布此版本…").click()
    dialog = page.locator("#publish-dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("发布说明（选填）").fill("首次发布")
    await dialog.get_by_role("button", name="确认发布").click()

    await expect(page.get_by_role("heading", name="第 1 版 · 已发布")).to_be_visible()
    await expect(page.locator("#read-only-note")).to_be_visible()
    await expect(page.get_by_label(f"{code} 的参数（JSON）")).to_be_disabled()
    await expect(page.get_by_label("模型文件大小上限（MB）")).to_be_disabled()
    await expect(page.get_by_role("button", name="保存草稿")).to_have_count(0)
    await expect(page.get_by_role("button", name="由第 1 版新建草稿")).to_be_visible()

    admin = await as_user("admin")
    listed = (await admin.get("/api/v1/bim/rule-sets")).json()["items"]
    rule_set = next(s for s in listed if s["name"] == name)
    version = (await admin.get(f"/api/v1/bim/rule-sets/{rule_set['id']}")).json()["versions"][0]
    content = (await admin.get(f"/api/v1/bim/rule-set-versions/{version['id']}")).json()["content"]
    assert content["max_model_bytes"] == 100 * 1024 * 1024 != DEFAULT_MAX_MODEL_BYTES
    assert content["rules"][code]["enabled"] is False
    assert code not in content["rule_versions"]
    await expect(page.locator("#content-sm3")).to_have_text(version["content_sm3"])
    await expect(page.locator("#versions tbody tr")).to_have_count(1)


async def test_a_reader_sees_rule_sets_without_controls_to_change_them(
    page: Page, log_in: LogIn, as_user: AsUser
) -> None:
    admin = await as_user("admin")
    created = await admin.post(
        "/api/v1/bim/rule-sets", json={"name": f"只读测试规则集{secrets.token_hex(3)}"}
    )
    assert created.status_code == 201, created.text
    await log_in("expert")
    await page.goto("/admin/bim/rule-sets")
    await expect(page.get_by_role("link", name=created.json()["name"])).to_be_visible()
    await expect(page.locator("#create-rule-set")).to_have_count(0)
    await page.get_by_role("link", name=created.json()["name"]).click()
    await expect(page.get_by_role("heading", name="第 1 版 · 草稿")).to_be_visible()
    await expect(page.get_by_role("button", name="保存草稿")).to_have_count(0)
    await expect(page.locator("#rules textarea").first).to_be_disabled()


async def test_an_ids_read_from_a_file_is_saved_with_the_draft_and_a_broken_one_is_refused_on_its_field(
    page: Page, log_in: LogIn, as_user: AsUser
) -> None:
    admin = await as_user("admin")
    created = (
        await admin.post("/api/v1/bim/rule-sets", json={"name": f"IDS测试规则集{secrets.token_hex(3)}"})
    ).json()
    await log_in("admin")
    await page.goto(f"/admin/bim/rule-sets/{created['id']}")
    xml = page.get_by_label("IDS（XML，留空表示不检查数据完整性）")

    await page.get_by_label("从文件读取 IDS").set_input_files(
        files=[{"name": "坏的.ids", "mimeType": "application/xml", "buffer": "<ids><未闭合></ids>".encode()}]
    )
    await expect(xml).to_have_value("<ids><未闭合></ids>")
    await expect(page.get_by_label("IDS 名称")).to_have_value("坏的.ids")
    await page.get_by_label("修改说明").fill("载入 IDS")
    await page.get_by_role("button", name="保存草稿").click()
    await expect(page.locator("#problems")).to_contain_text("IDS 不是格式正确的 XML")
    await expect(xml).to_have_attribute("aria-invalid", "true")

    await page.get_by_label("IDS 名称").fill("")
    await page.get_by_label("从文件读取 IDS").set_input_files(
        files=[{"name": "墙体数据项.ids", "mimeType": "application/xml", "buffer": IDS_XML.encode()}]
    )
    await expect(page.get_by_label("IDS 名称")).to_have_value("墙体数据项.ids")
    await page.get_by_role("button", name="保存草稿").click()
    await expect(page.locator("#saved-notice")).to_be_visible()
    await expect(xml).to_have_value(IDS_XML)
    version = (await admin.get(f"/api/v1/bim/rule-sets/{created['id']}")).json()["versions"][0]
    content = (await admin.get(f"/api/v1/bim/rule-set-versions/{version['id']}")).json()["content"]
    assert content["ids"] == {"name": "墙体数据项.ids", "xml": IDS_XML}
