"""The collaborative form document page (/documents/{id}) in real browsers: two people type into the
same form at once and converge (on both pages and on the server), see each other and each other's
caret; a reviewer who may only read sees the content and cannot change it; a page that goes offline
keeps its edits and merges them when it is back (even after its tab was closed); named versions are
saved, restored on every open page, and shown read-only."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    WebSocketRoute,
    expect,
)

from tests.conftest import unique_code
from tests.support.processes import ServerChild
from tests.web.conftest import VIEWPORT, AsUser, LogIn

CONVERGE_S = 15.0
OFFLINE = "离线（修改已保存在本机，联网后自动合并）"
# The text of a rich-text section as its readers see it: blocks by line, other people's carets aside.
SHOWN_TEXT = """(section) => {
  const editor = document.querySelector(`.ProseMirror[data-section="${section}"]`);
  if (!editor) return null;
  const copy = editor.cloneNode(true);
  copy.querySelectorAll(".remote-caret").forEach((caret) => caret.remove());
  return [...copy.children].map((block) => block.textContent).join("\\n");
}"""


class Editor:
    """One person's browser (its own context: cookies, IndexedDB) with the document page open."""

    def __init__(self, context: BrowserContext, login_name: str) -> None:
        self.context = context
        self.login = login_name
        self.page: Page | None = None
        self.errors: list[Error] = []
        self.csp: list[str] = []

    async def open(self, path: str) -> Page:
        page = await self.context.new_page()
        page.on("pageerror", self._error)
        page.on("console", self._console)
        await page.goto(path)
        await expect(page.locator("#document")).to_have_attribute("data-ready", "true")
        self.page = page
        return page

    def _error(self, error: Error) -> None:
        self.errors.append(error)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.csp.append(message.text)

    @property
    def tab(self) -> Page:
        assert self.page is not None
        return self.page

    def field(self, section: str, key: str) -> Locator:
        return self.tab.locator(f'[data-section="{section}"] .doc-field[data-key="{key}"]').locator(
            "input, select"
        )

    def richtext(self, section: str) -> Locator:
        return self.tab.locator(f'.ProseMirror[data-section="{section}"]')

    async def expect_text(self, section: str, text: str) -> None:
        """The rich-text section shows exactly `text` (other people's carets aside), soon."""
        try:
            await self.tab.wait_for_function(
                f"([section, text]) => ({SHOWN_TEXT})(section) === text",
                arg=[section, text],
                timeout=CONVERGE_S * 1000,
            )
        except Error:
            shown = await self.tab.evaluate(SHOWN_TEXT, section)
            raise AssertionError(f"{self.login}'s {section} shows {shown!r}, not {text!r}") from None

    def connection(self) -> Locator:
        return self.tab.get_by_test_id("connection")


class SocketCutter:
    """Routes a browser's document sockets through Playwright, so that a test can drop them (as a lost
    network or a restarted server would, without the browser noticing it is offline) and let them
    through again."""

    def __init__(self) -> None:
        self.blocked = False
        self.routes: list[WebSocketRoute] = []

    async def route(self, ws: WebSocketRoute) -> None:
        if self.blocked:
            await ws.close(code=4503, reason="cut")
            return
        ws.connect_to_server()
        self.routes.append(ws)

    async def cut(self) -> None:
        self.blocked = True
        for ws in self.routes:
            await ws.close(code=4503, reason="cut")
        self.routes.clear()

    def restore(self) -> None:
        self.blocked = False


OpenEditor = Callable[..., Awaitable[Editor]]


@pytest.fixture
async def open_editor(browser: Browser, server: ServerChild) -> AsyncIterator[OpenEditor]:
    """`await open_editor("pujiang", doc_id)`: a new browser context logged in as that account, with
    the document's page open and connected (unless `connected=False`)."""
    editors: list[Editor] = []

    async def open_(
        login_name: str, doc_id: str, *, connected: bool = True, sockets: SocketCutter | None = None
    ) -> Editor:
        context = await browser.new_context(
            base_url=server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT
        )
        if sockets is not None:
            await context.route_web_socket(re.compile(r"/ws/docs/"), sockets.route)
        await LogIn(context)(login_name)
        editor = Editor(context, login_name)
        editors.append(editor)
        await editor.open(f"/documents/{doc_id}")
        if connected:
            await expect(editor.connection()).to_have_text("已连接")
        return editor

    yield open_
    for editor in editors:
        await editor.context.close()
    for editor in editors:
        assert not editor.errors, f"{editor.login}'s page threw: {editor.errors}"
        assert not editor.csp, f"{editor.login}'s page broke the CSP: {editor.csp}"


async def create_document(
    owner: httpx.AsyncClient, form: str = "bim_building", title: str = "浦江人才公寓 BIM 填报"
) -> str:
    project = await owner.post(
        "/api/v1/projects", json={"code": unique_code(), "name": "协同填报页面测试项目"}
    )
    assert project.status_code == 201, project.text
    created = await owner.post(
        f"/api/v1/projects/{project.json()['id']}/documents", json={"title": title, "form": form}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def display_name(client: httpx.AsyncClient) -> str:
    me = await client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    return str(me.json()["user"]["display_name"])


def text_of(node: Any) -> str:
    """The plain text of a ProseMirror JSON node (blocks joined by newlines)."""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    inner = [text_of(child) for child in node.get("content", [])]
    block = node.get("type") in ("doc", "bullet_list", "ordered_list", "list_item", "blockquote")
    return "\n".join(inner) if block else "".join(inner)


async def server_content(client: httpx.AsyncClient, doc_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/documents/{doc_id}/content")
    assert response.status_code == 200, response.text
    sections: dict[str, Any] = response.json()["content"]["sections"]
    return sections


async def eventually_on_server(
    client: httpx.AsyncClient, doc_id: str, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The server's content once `check` holds (edits reach it asynchronously)."""
    deadline = time.monotonic() + CONVERGE_S
    while True:
        sections = await server_content(client, doc_id)
        if check(sections):
            return sections
        assert time.monotonic() < deadline, f"the server never got there: {sections}"
        await asyncio.sleep(0.2)


async def type_into_field(editor: Editor, section: str, key: str, text: str) -> None:
    await editor.field(section, key).click()
    await editor.tab.keyboard.type(text, delay=40)


async def type_into_richtext(editor: Editor, section: str, text: str) -> None:
    await editor.richtext(section).click()
    await editor.tab.keyboard.press("End")
    await editor.tab.keyboard.type(text, delay=40)


async def test_two_people_typing_at_once_converge_on_both_pages_and_on_the_server_and_see_each_other(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    owner, colleague = await as_user("pujiang"), await as_user("pujiang_agent")
    doc_id = await create_document(owner)
    first = await open_editor("pujiang", doc_id)
    second = await open_editor("pujiang_agent", doc_id)
    first_name = await display_name(owner)

    await expect(second.tab.get_by_test_id("presence").get_by_text(first_name)).to_be_visible()
    await expect(
        first.tab.get_by_test_id("presence").get_by_text(await display_name(colleague))
    ).to_be_visible()

    async def first_types() -> None:
        await type_into_field(first, "project", "project_name", "张江科学城人才公寓")
        await type_into_richtext(first, "architecture_notes", "本工程为高层住宅。")

    async def second_types() -> None:
        await type_into_field(second, "project", "location", "浦东新区张江路 100 号")
        await type_into_richtext(second, "structure_notes", "采用剪力墙结构。")

    await asyncio.gather(first_types(), second_types())

    for editor in (first, second):
        await expect(editor.field("project", "project_name")).to_have_value("张江科学城人才公寓")
        await expect(editor.field("project", "location")).to_have_value("浦东新区张江路 100 号")
        await editor.expect_text("architecture_notes", "本工程为高层住宅。")
        await editor.expect_text("structure_notes", "采用剪力墙结构。")
    sections = await eventually_on_server(
        owner,
        doc_id,
        lambda s: (
            s["project"].get("location") == "浦东新区张江路 100 号"
            and text_of(s["structure_notes"]) == "采用剪力墙结构。"
            and text_of(s["architecture_notes"]) == "本工程为高层住宅。"
        ),
    )
    assert sections["project"]["project_name"] == "张江科学城人才公寓"

    # The first person's caret, named, in the section they are typing in, and only there.
    await type_into_richtext(first, "architecture_notes", "地上")
    caret = second.tab.locator('[data-section="architecture_notes"] .remote-caret')
    await expect(caret).to_have_count(1)
    await expect(caret).to_contain_text(first_name)
    await expect(second.tab.locator('[data-section="structure_notes"] .remote-caret')).to_have_count(0)
    await expect(second.richtext("architecture_notes")).to_contain_text("本工程为高层住宅。地上")


async def test_table_rows_added_filled_and_deleted_on_one_page_follow_on_the_other(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    owner = await as_user("pujiang")
    doc_id = await create_document(owner)
    first = await open_editor("pujiang", doc_id)
    second = await open_editor("pujiang_agent", doc_id)
    units = '[data-section="units"]'

    await first.tab.locator(units).get_by_role("button", name="添加一行").click()
    await first.tab.locator(units).get_by_role("button", name="添加一行").click()
    await first.tab.locator(units).get_by_label("单体名称（第 1 行）").fill("1号楼")
    await second.tab.locator(units).get_by_label("单体名称（第 2 行）").fill("2号楼")
    await second.tab.locator(units).get_by_label("建筑面积（m²）（第 2 行）").fill("8200.5")
    await expect(first.tab.locator(units).get_by_label("单体名称（第 2 行）")).to_have_value("2号楼")
    await expect(second.tab.locator(units).get_by_label("单体名称（第 1 行）")).to_have_value("1号楼")
    sections = await eventually_on_server(
        owner, doc_id, lambda s: [row.get("name") for row in s["units"]] == ["1号楼", "2号楼"]
    )
    assert sections["units"][1]["area"] == 8200.5

    await second.tab.locator(f"{units} tbody tr").first.get_by_role("button", name="删除").click()
    for editor in (first, second):
        await expect(editor.tab.locator(f"{units} tbody tr")).to_have_count(1)
        await expect(editor.tab.locator(units).get_by_label("单体名称（第 1 行）")).to_have_value("2号楼")
    await eventually_on_server(owner, doc_id, lambda s: [row.get("name") for row in s["units"]] == ["2号楼"])


async def test_a_remote_change_to_a_field_keeps_the_caret_of_the_person_typing_in_it(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    doc_id = await create_document(await as_user("pujiang"))
    first = await open_editor("pujiang", doc_id)
    second = await open_editor("pujiang_agent", doc_id)
    await first.field("project", "location").fill("浦东大道")
    await expect(second.field("project", "location")).to_have_value("浦东大道")

    await first.field("project", "location").click()
    await first.tab.keyboard.press("Home")
    await first.tab.keyboard.press("ArrowRight")
    await first.tab.keyboard.press("ArrowRight")  # the caret after 浦东
    await second.field("project", "location").fill("上海市浦东大道")  # two characters before it
    await expect(first.field("project", "location")).to_have_value("上海市浦东大道")
    assert await first.field("project", "location").evaluate("input => input.selectionStart") == 5
    await first.tab.keyboard.type("新区")
    await expect(second.field("project", "location")).to_have_value("上海市浦东新区大道")


async def test_a_reviewer_who_may_only_read_sees_the_content_and_cannot_change_it(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    owner = await as_user("pujiang")
    doc_id = await create_document(owner)
    writer = await open_editor("pujiang", doc_id)
    await type_into_field(writer, "project", "project_name", "临港新片区研发楼")
    await type_into_richtext(writer, "architecture_notes", "框架结构，地上六层。")
    await eventually_on_server(
        owner, doc_id, lambda s: text_of(s["architecture_notes"]) == "框架结构，地上六层。"
    )

    reader = await open_editor("zhujian", doc_id)  # a reviewer: sees every project, edits no document
    page = reader.tab
    reviewer_name = await display_name(await as_user("zhujian"))
    await expect(writer.tab.get_by_test_id("presence").get_by_text(reviewer_name)).to_be_visible()
    await expect(page.get_by_test_id("readonly-banner")).to_be_visible()
    await expect(page.get_by_test_id("readonly-banner")).to_contain_text("只读")
    await expect(reader.field("project", "project_name")).to_have_value("临港新片区研发楼")
    await expect(reader.field("project", "project_name")).to_be_disabled()
    await reader.expect_text("architecture_notes", "框架结构，地上六层。")
    await expect(reader.richtext("architecture_notes")).to_have_attribute("contenteditable", "false")
    await expect(page.locator('[data-action="add-row"]').first).to_be_disabled()
    await expect(page.locator("#save-version")).to_be_hidden()

    await reader.richtext("architecture_notes").click()
    await page.keyboard.type("篡改")
    await reader.field("project", "height").click(force=True)
    await page.keyboard.type("999")
    await reader.expect_text("architecture_notes", "框架结构，地上六层。")
    # The writer keeps typing and the reader follows live; nothing of the reader's arrives anywhere.
    await type_into_field(writer, "project", "location", "临港")
    await expect(reader.field("project", "location")).to_have_value("临港")
    sections = await server_content(owner, doc_id)
    assert text_of(sections["architecture_notes"]) == "框架结构，地上六层。"
    assert sections["project"].get("height") is None
    await writer.expect_text("architecture_notes", "框架结构，地上六层。")


async def test_an_offline_page_keeps_typing_and_its_edits_merge_when_it_is_back(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    owner = await as_user("pujiang")
    doc_id = await create_document(owner)
    offline = await open_editor("pujiang", doc_id)
    online = await open_editor("pujiang_agent", doc_id)

    await offline.context.set_offline(True)
    await expect(offline.connection()).to_have_text(OFFLINE)
    await type_into_field(offline, "project", "project_name", "北外滩航运中心")
    await type_into_richtext(offline, "architecture_notes", "离线时写的说明。")
    await type_into_field(online, "project", "location", "虹口区东大名路")
    await expect(offline.field("project", "location")).to_have_value("")  # nothing arrives while offline
    await eventually_on_server(owner, doc_id, lambda s: s["project"].get("location") == "虹口区东大名路")
    assert (await server_content(owner, doc_id))["project"].get("project_name") is None

    await offline.context.set_offline(False)
    await expect(offline.connection()).to_have_text("已连接")
    await expect(online.field("project", "project_name")).to_have_value("北外滩航运中心")
    await online.expect_text("architecture_notes", "离线时写的说明。")
    await expect(offline.field("project", "location")).to_have_value("虹口区东大名路")
    await eventually_on_server(
        owner,
        doc_id,
        lambda s: (
            s["project"].get("project_name") == "北外滩航运中心"
            and text_of(s["architecture_notes"]) == "离线时写的说明。"
        ),
    )


async def test_a_page_whose_connection_drops_shows_it_is_offline_and_merges_its_edits_when_it_reconnects(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    owner = await as_user("pujiang")
    doc_id = await create_document(owner)
    sockets = SocketCutter()
    dropped = await open_editor("pujiang", doc_id, sockets=sockets)
    other = await open_editor("pujiang_agent", doc_id)

    await sockets.cut()  # the browser still believes it is online; the socket is just gone
    await expect(dropped.connection()).to_have_text(OFFLINE)
    await type_into_field(dropped, "structure", "basic_snow_pressure", "0.2")
    await type_into_richtext(dropped, "structure_notes", "断线时补充的说明。")
    await type_into_field(other, "structure", "basic_wind_pressure", "0.55")
    await expect(dropped.field("structure", "basic_wind_pressure")).to_have_value("")
    await expect(other.field("structure", "basic_snow_pressure")).to_have_value("")

    sockets.restore()  # y-websocket retries on its own (backoff of at most 2.5 s)
    await expect(dropped.connection()).to_have_text("已连接", timeout=CONVERGE_S * 1000)
    await expect(other.field("structure", "basic_snow_pressure")).to_have_value("0.2")
    await other.expect_text("structure_notes", "断线时补充的说明。")
    await expect(dropped.field("structure", "basic_wind_pressure")).to_have_value("0.55")
    sections = await eventually_on_server(
        owner, doc_id, lambda s: s["structure"].get("basic_snow_pressure") == 0.2
    )
    assert sections["structure"]["basic_wind_pressure"] == 0.55
    assert text_of(sections["structure_notes"]) == "断线时补充的说明。"


async def test_edits_made_offline_survive_closing_the_tab_and_reach_the_others_when_it_is_opened_again(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    owner = await as_user("pujiang")
    doc_id = await create_document(owner)
    writer = await open_editor("pujiang", doc_id)
    other = await open_editor("pujiang_agent", doc_id)

    await writer.context.set_offline(True)
    await expect(writer.connection()).to_have_text(OFFLINE)
    await type_into_field(writer, "structure", "basic_wind_pressure", "0.55")
    await type_into_richtext(writer, "structure_notes", "断网期间填写。")
    stored = "window.tongbanEditor.storedLocally()"
    await writer.tab.wait_for_function(f"{stored}.then(s => s.structure_notes.includes('断网期间填写。'))")
    await writer.tab.close()
    await writer.context.set_offline(False)
    sections = await server_content(owner, doc_id)
    assert sections["structure"].get("basic_wind_pressure") is None

    await writer.open(f"/documents/{doc_id}")
    await expect(writer.connection()).to_have_text("已连接")
    await expect(other.field("structure", "basic_wind_pressure")).to_have_value("0.55")
    await other.expect_text("structure_notes", "断网期间填写。")
    sections = await eventually_on_server(
        owner, doc_id, lambda s: s["structure"].get("basic_wind_pressure") == 0.55
    )
    assert text_of(sections["structure_notes"]) == "断网期间填写。"


async def test_a_saved_version_is_restored_on_every_open_page_and_shown_read_only(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    owner = await as_user("pujiang")
    doc_id = await create_document(owner)
    first = await open_editor("pujiang", doc_id)
    second = await open_editor("pujiang_agent", doc_id)
    await type_into_field(first, "project", "project_name", "前滩商业综合体")
    await type_into_richtext(first, "architecture_notes", "第一稿说明。")
    await second.expect_text("architecture_notes", "第一稿说明。")
    await eventually_on_server(owner, doc_id, lambda s: text_of(s["architecture_notes"]) == "第一稿说明。")

    panel = first.tab.locator("#versions-panel")
    await panel.get_by_label("版本名称").fill("2026-11-28 初稿")
    await panel.get_by_role("button", name="保存版本").click()
    await expect(panel.locator("#versions-status")).to_have_text("已保存版本“2026-11-28 初稿”。")
    version = panel.get_by_test_id("versions").locator("li").filter(has_text="2026-11-28 初稿")
    await expect(version).to_have_count(1)

    await first.field("project", "project_name").fill("前滩商业综合体（调整）")
    await first.richtext("architecture_notes").click()
    await first.tab.keyboard.press("Control+a")
    await first.tab.keyboard.type("第二稿，已改写。", delay=10)
    await second.expect_text("architecture_notes", "第二稿，已改写。")
    await expect(second.field("project", "project_name")).to_have_value("前滩商业综合体（调整）")

    first.tab.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await version.get_by_role("button", name="恢复").click()
    await expect(panel.locator("#versions-status")).to_have_text("已恢复到版本“2026-11-28 初稿”。")
    for editor in (first, second):
        await editor.expect_text("architecture_notes", "第一稿说明。")
        await expect(editor.field("project", "project_name")).to_have_value("前滩商业综合体")
    await eventually_on_server(owner, doc_id, lambda s: text_of(s["architecture_notes"]) == "第一稿说明。")

    await version.get_by_role("link", name="查看").click()
    page = first.tab
    await expect(page.locator("#document")).to_have_attribute("data-ready", "true")
    await expect(page.get_by_test_id("version-banner")).to_contain_text("2026-11-28 初稿")
    await first.expect_text("architecture_notes", "第一稿说明。")
    await expect(first.richtext("architecture_notes")).to_have_attribute("contenteditable", "false")
    await expect(first.field("project", "project_name")).to_have_value("前滩商业综合体")
    await expect(first.field("project", "project_name")).to_be_disabled()


async def test_validation_names_the_problems_next_to_their_fields_and_in_a_list(
    open_editor: OpenEditor, as_user: AsUser
) -> None:
    doc_id = await create_document(await as_user("pujiang"))
    editor = await open_editor("pujiang", doc_id)
    page = editor.tab
    await type_into_field(editor, "project", "height", "很高")
    await page.locator('[data-section="units"]').get_by_role("button", name="添加一行").click()
    await page.locator('[data-section="units"] tbody tr').first.get_by_label("层数（第 1 行）").fill("2.5")

    await page.get_by_role("button", name="校验", exact=True).click()
    errors = page.get_by_test_id("validation-errors")
    await expect(errors.locator('[data-path="project.height"]')).to_contain_text(
        "项目概况 · 建筑高度：建筑高度应为数字"
    )
    await expect(errors.locator('[data-path="units[0].floors"]')).to_contain_text("单体信息 · 第 1 行 · 层数")
    await expect(errors.locator('[data-path="project.project_name"]')).to_contain_text("请填写工程名称")
    height = page.locator('[data-section="project"] .doc-field[data-key="height"]')
    await expect(height.locator(".field-error")).to_have_text("建筑高度应为数字")
    await expect(editor.field("project", "height")).to_have_attribute("aria-invalid", "true")

    await editor.field("project", "height").fill("54")
    await page.get_by_role("button", name="校验", exact=True).click()
    await expect(errors.locator('[data-path="project.height"]')).to_have_count(0)
    await expect(height.locator(".field-error")).to_be_hidden()
