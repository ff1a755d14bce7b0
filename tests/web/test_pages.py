"""The web pages in a real browser against the real server and worker: login, the project list
and its registration form, the live project page, access control and Chinese rendering."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, ViewportSize, expect

from tests.conftest import unique_code
from tests.support.clients import DEMO_PASSWORD
from tests.support.processes import Child, ServerChild
from tests.web.conftest import AsUser, LogIn

# The archive job runs in the worker process and comes back through Redis and the actor.
ARCHIVE_TIMEOUT_MS = 20_000
PHONE: ViewportSize = {"width": 390, "height": 844}
PROJECT_URL = re.compile(r"/projects/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The width of an element's text as laid out (not of its box, which stretches to the card), and its em.
TEXT_WIDTH_JS = """h => {
  const range = document.createRange();
  range.selectNodeContents(h);
  return [range.getBoundingClientRect().width, parseFloat(getComputedStyle(h).fontSize)];
}"""


async def register_project(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await client.post("/api/v1/projects", json={"code": unique_code(), "name": name})
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()
    return project


async def visible_codes(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/projects")
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


async def test_an_anonymous_visitor_logs_in_as_zhang_min_with_her_password_and_lands_on_her_projects(
    page: Page, server: ServerChild, as_user: AsUser
) -> None:
    ours = await register_project(await as_user("pujiang"), "浦江置业徐汇滨江办公楼项目")
    theirs = await register_project(await as_user("shencheng"), "申城建设虹桥路改造工程")

    await page.goto("/projects")

    await expect(page).to_have_url(f"{server.url}/login?next=/projects")
    await expect(page.get_by_role("heading", name="登录联审平台")).to_be_visible()
    await expect(page.get_by_role("tab", name="密码登录")).to_have_attribute("aria-selected", "true")
    form = page.locator("#password-login")
    await form.get_by_label("登录名").fill("pujiang")
    await form.get_by_label("密码").fill(DEMO_PASSWORD)
    await form.get_by_role("button", name="登录").click()

    await expect(page).to_have_url(f"{server.url}/projects")
    await expect(page.get_by_test_id("current-user")).to_have_text(
        "张敏 · 上海浦江置业有限公司 · 建设单位申请人"
    )
    row = page.locator("table.list tbody tr", has_text=ours["code"])
    await expect(row.get_by_role("link", name=ours["name"])).to_have_attribute(
        "href", f"/projects/{ours['id']}"
    )
    await expect(page.locator("table.list tbody tr", has_text=theirs["code"])).to_have_count(0)
    owners = await page.locator("table.list tbody td:nth-child(3)").all_text_contents()
    assert set(owners) == {"上海浦江置业有限公司"}


async def test_a_project_registered_through_the_form_shows_its_archive_number_live_without_a_reload(
    page: Page, server: ServerChild, worker: Child, log_in: LogIn
) -> None:
    await log_in("pujiang")
    code = unique_code()
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
    await page.goto("/projects")

    form = page.locator("#create-project")
    await form.get_by_label("项目代码").fill(code)
    await form.get_by_label("项目名称").fill("临港新片区数据中心项目")
    await form.get_by_role("button", name="登记").click()

    # The page is rendered once; its status badge and timeline then follow the project's websocket,
    # which replays the project's events from the first, so both change in this same document.
    await expect(page).to_have_url(PROJECT_URL)
    await expect(page.get_by_role("heading", name="临港新片区数据中心项目")).to_be_visible()
    await expect(page.locator("#connection-state")).to_have_text("已连接")
    status = page.locator('[data-field="status"]')
    await expect(status).to_have_text("项目电子档案已建立", timeout=ARCHIVE_TIMEOUT_MS)
    await expect(status).to_have_attribute("data-status", "archived")
    archive_no = page.locator('[data-field="archive_no"]')
    await expect(archive_no).to_have_text(re.compile(r"^DA\S+$"))
    number = await archive_no.text_content()

    timeline = page.locator("#timeline li")
    await expect(timeline).to_have_count(2)
    await expect(timeline.nth(0)).to_contain_text(f"项目电子档案已建立，档案编号 {number}")
    await expect(timeline.nth(1)).to_contain_text(f"项目已登记：临港新片区数据中心项目（{code}）")
    assert loads == [f"{server.url}/projects", page.url], "the project page was loaded more than once"


async def test_an_invalid_project_code_shows_the_servers_chinese_message_and_registers_nothing(
    page: Page, as_user: AsUser, log_in: LogIn
) -> None:
    applicant = await as_user("pujiang")
    before = await visible_codes(applicant)
    await log_in("pujiang")
    await page.goto("/projects")

    form = page.locator("#create-project")
    await form.get_by_label("项目代码").fill("a!")
    await form.get_by_label("项目名称").fill("无效代码的项目")
    await form.get_by_role("button", name="登记").click()

    await expect(form.get_by_role("alert")).to_have_text("提交的数据不符合要求：项目代码")
    await expect(form.get_by_label("项目代码")).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_label("项目名称")).not_to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/projects")
    assert await visible_codes(applicant) == before


async def test_another_enterprise_opening_a_project_page_gets_a_chinese_not_found_page_without_the_project(
    page: Page, as_user: AsUser, log_in: LogIn
) -> None:
    project = await register_project(await as_user("pujiang"), "浦江置业前滩保密项目")
    await log_in("shencheng")

    response = await page.goto(f"/projects/{project['id']}")

    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", name="项目不存在或无权查看")).to_be_visible()
    await expect(page.get_by_test_id("current-user")).to_contain_text("王磊")
    content = await page.content()
    assert project["name"] not in content
    assert project["code"] not in content


async def test_chinese_text_on_the_project_page_is_drawn_with_a_noto_cjk_font(
    page: Page, context: BrowserContext, as_user: AsUser, log_in: LogIn, tmp_path: Path
) -> None:
    project = await register_project(await as_user("pujiang"), "浦东新区张江科学城人才公寓项目")
    await log_in("pujiang")
    await page.goto(f"/projects/{project['id']}")
    heading = page.get_by_role("heading", name=project["name"])
    await expect(heading).to_be_visible()
    await expect(page.locator("#connection-state")).to_have_text("已连接")

    await page.screenshot(path=tmp_path / "project.png", full_page=True)

    # The fonts Chromium actually shaped the heading's glyphs with (document.fonts.check() answers
    # true for any family that is not a web font, so it cannot tell a missing system font).
    cdp = await context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument")
    node = await cdp.send("DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": "h1"})
    used = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    families = {font["familyName"]: font["glyphCount"] for font in used["fonts"]}
    assert families == {"Noto Sans CJK SC": len(project["name"])}
    # Noto's Han glyphs advance one full em each: the heading is laid out at its full width.
    width, em = await heading.evaluate(TEXT_WIDTH_JS)
    assert width == len(project["name"]) * em


async def test_on_a_phone_the_header_wraps_above_the_project_page_and_nothing_scrolls_sideways(
    page: Page, as_user: AsUser, log_in: LogIn
) -> None:
    project = await register_project(await as_user("pujiang"), "浦东新区张江科学城人才公寓项目")
    await log_in("pujiang")
    await page.set_viewport_size(PHONE)
    await page.goto(f"/projects/{project['id']}")
    await expect(page.get_by_role("heading", name=project["name"])).to_be_visible()

    header = await page.locator("header.topbar").bounding_box()
    assert header is not None
    for part in await page.locator("header.topbar > *").all():
        box = await part.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= header["y"] + header["height"], await part.text_content()
    main = await page.locator("main").bounding_box()
    assert main is not None
    assert main["y"] >= header["y"] + header["height"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
