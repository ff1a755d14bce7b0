"""The project page's collaborative documents in a real browser: the owner's editors see the list
and create a filling form that opens in the editor; other units that may see the project see the
list but no way to create one."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.conftest import unique_code
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, LogIn


async def test_the_owner_creates_a_filling_form_from_the_project_page_and_lands_in_its_editor(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn
) -> None:
    owner = await as_user("pujiang")
    created = await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "协同填报页面项目"})
    project_id = created.json()["id"]
    await log_in("pujiang")
    await page.goto(f"/projects/{project_id}")
    documents = page.get_by_test_id("documents")
    await expect(documents).to_contain_text("暂无协同文档")
    await documents.get_by_label("文档标题").fill("2号楼 BIM 建筑信息填报")
    await expect(documents.get_by_label("表单")).to_have_value("bim_building")
    await documents.get_by_role("button", name="新建文档").click()
    await page.wait_for_url("**/documents/*")
    listed = (await owner.get(f"/api/v1/projects/{project_id}/documents")).json()["items"]
    assert [(d["title"], d["form"]) for d in listed] == [("2号楼 BIM 建筑信息填报", "bim_building")]
    assert page.url.endswith(f"/documents/{listed[0]['id']}")

    await page.goto(f"/projects/{project_id}")
    link = documents.get_by_role("link", name="2号楼 BIM 建筑信息填报")
    await expect(link).to_have_attribute("href", f"/documents/{listed[0]['id']}")
    await expect(documents).to_contain_text("BIM 建筑信息填报")


async def test_a_reviewing_unit_sees_the_documents_but_cannot_create_one(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn
) -> None:
    owner = await as_user("pujiang")
    created = await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "审查单位查看项目"})
    project_id = created.json()["id"]
    made = await owner.post(f"/api/v1/projects/{project_id}/documents", json={"title": "设计说明"})
    assert made.status_code == 201
    await log_in("zhujian")
    await page.goto(f"/projects/{project_id}")
    documents = page.get_by_test_id("documents")
    await expect(documents.get_by_role("link", name="设计说明")).to_be_visible()
    await expect(documents.get_by_role("button", name="新建文档")).to_have_count(0)
