"""The drawings page (图纸管理) in a real browser: the catalogue's search and paging keep the query in
the form and the address; the owner adds a building and imports a catalogue by pasting lines; files
picked in the upload panel are matched to entries by the drawing number their names start with (or
chosen by hand), uploaded through tus (also as two parallel parts) and show up as new versions; a
paused upload resumes from the offset the server holds; selected entries and buildings make the
package link; other enterprises get the not-found page and readers without upload rights get no
upload panel."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Error, Page, Request, Response, Route, expect

from tests.conftest import unique_code
from tests.support.processes import ServerChild
from tests.support.uploads import pdf_bytes
from tests.web.conftest import AsUser, LogIn

MB = 1024 * 1024


async def new_project(owner: httpx.AsyncClient, name: str = "图纸页面项目") -> str:
    created = await owner.post("/api/v1/projects", json={"code": unique_code(), "name": name})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def catalogue(
    owner: httpx.AsyncClient, project_id: str, numbers: list[tuple[str, str]]
) -> dict[str, str]:
    """A building "1号楼" with construction entries (number, title); returns number → entry id."""
    building = await owner.post(
        f"/api/v1/projects/{project_id}/buildings", json={"name": "1号楼", "code": "B1"}
    )
    assert building.status_code == 201, building.text
    entries = [
        {
            "building_id": building.json()["id"],
            "kind": "construction",
            "discipline": "建筑",
            "number": n,
            "title": t,
        }
        for n, t in numbers
    ]
    made = await owner.post(f"/api/v1/projects/{project_id}/drawings", json={"entries": entries})
    assert made.status_code == 200, made.text
    return {d["number"]: d["id"] for d in made.json()["items"]} | {"building": building.json()["id"]}


def pdf(name: str, size: int, seed: int) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": pdf_bytes(size, seed)}


def is_tus(url: str) -> bool:
    return urlsplit(url).path.startswith("/files/")


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


async def test_searching_and_paging_keep_the_query_in_the_form_and_the_address(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn
) -> None:
    owner = await as_user("pujiang")
    project_id = await new_project(owner)
    await log_in("pujiang")
    await page.goto(f"/projects/{project_id}")
    await page.get_by_role("link", name="图纸", exact=True).click()
    await page.wait_for_url(f"**/projects/{project_id}/drawings")
    await expect(page.get_by_test_id("catalogue")).to_contain_text("图纸目录为空")

    add = page.locator("#new-building")
    await add.get_by_label("单体名称").fill("1号楼")
    await add.get_by_role("button", name="新增单体").click()
    await expect(page.get_by_test_id("buildings")).to_contain_text("已新增单体“1号楼”")
    await add.get_by_label("单体名称").fill("1号楼")
    await add.get_by_role("button", name="新增单体").click()
    await expect(add.get_by_role("alert")).to_be_visible()  # the same name twice: the server's 409

    imports = page.locator("#import-catalogue")
    await imports.get_by_label("单体").select_option(label="1号楼")
    await imports.get_by_label("目录").fill("建筑 建施-01 没有 Tab 的一行")
    await imports.get_by_role("button", name="导入目录").click()
    await expect(imports.get_by_role("alert")).to_contain_text("第 1 行")
    lines = [f"建筑\t建施-{i:02d}\t第{i}张平面图" for i in range(1, 24)] + [
        "结构\t结施-01\t基础平面图",
        "",
        "结构\t结施-02\t桩位图",
    ]
    await imports.get_by_label("目录").fill("\n".join(lines))
    await imports.get_by_role("button", name="导入目录").click()
    await expect(imports.get_by_role("status")).to_have_text("已导入 25 条图纸目录")
    await imports.get_by_label("类型").select_option(label="竣工图")
    await imports.get_by_label("目录").fill(
        "建筑\t建施-01\t一层平面图（竣工）\n建筑\t建施-02\t二层平面图（竣工）"
    )
    await imports.get_by_role("button", name="导入目录").click()
    await expect(imports.get_by_role("status")).to_have_text("已导入 2 条图纸目录")

    info = page.get_by_test_id("page-info")
    await expect(info).to_have_text("第 1 / 3 页，共 27 条")
    await expect(page.get_by_test_id("buildings")).to_contain_text("27 条")

    search = page.get_by_role("search", name="检索图纸")
    await search.get_by_label("关键字").fill("建施")
    await search.get_by_label("类型").select_option(label="施工图")
    await search.get_by_role("button", name="检索").click()
    await expect(info).to_have_text("第 1 / 3 页，共 23 条")
    assert query_of(page) == {"q": ["建施"], "kind": ["construction"]}

    await page.get_by_role("button", name="下一页").click()
    await expect(info).to_have_text("第 2 / 3 页，共 23 条")
    assert query_of(page) == {"q": ["建施"], "kind": ["construction"], "page": ["2"]}
    rows = page.locator("#catalogue-rows tr")
    await expect(rows).to_have_count(10)
    await expect(rows.first).to_have_attribute("data-number", "建施-11")
    await expect(search.get_by_label("关键字")).to_have_value("建施")
    await expect(search.get_by_label("类型")).to_have_value("construction")

    await page.reload()
    await expect(info).to_have_text("第 2 / 3 页，共 23 条")
    await expect(rows.first).to_have_attribute("data-number", "建施-11")
    await expect(search.get_by_label("关键字")).to_have_value("建施")
    await expect(search.get_by_label("类型")).to_have_value("construction")

    await page.get_by_role("button", name="下一页").click()
    await expect(info).to_have_text("第 3 / 3 页，共 23 条")
    await expect(rows).to_have_count(3)
    await expect(page.get_by_role("button", name="下一页")).to_be_disabled()
    await page.go_back()
    await expect(info).to_have_text("第 2 / 3 页，共 23 条")
    await page.get_by_role("button", name="上一页").click()
    await expect(info).to_have_text("第 1 / 3 页，共 23 条")
    assert query_of(page) == {"q": ["建施"], "kind": ["construction"]}

    await search.get_by_label("关键字").fill("结施")
    await search.get_by_label("类型").select_option(label="全部类型")
    await search.get_by_role("button", name="检索").click()
    await expect(info).to_have_text("第 1 / 1 页，共 2 条")
    await expect(page.get_by_role("button", name="上一页")).to_be_disabled()


async def test_the_owner_uploads_matched_files_and_sees_their_versions_and_packages_them(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn
) -> None:
    owner = await as_user("pujiang")
    project_id = await new_project(owner)
    ids = await catalogue(owner, project_id, [
        ("建施-01", "一层平面图"), ("建施-02", "二层平面图"), ("建施-02-1", "节点详图"), ("总施-01", "总平面图"),
    ])  # fmt: skip
    tus: list[Request] = []
    page.on("request", lambda request: tus.append(request) if is_tus(request.url) else None)
    await log_in("pujiang")
    await page.goto(f"/projects/{project_id}/drawings")
    panel = page.get_by_test_id("upload-panel")
    await expect(panel.get_by_label("选择文件")).to_be_enabled()  # the uploader is ready
    await panel.get_by_label("选择文件").set_input_files([
        pdf("建施-01 一层平面图.pdf", 200_000, 1), pdf("总图.pdf", 50_000, 2), pdf("设计说明.pdf", 10_000, 3),
        pdf("建施-021 详图.pdf", 10_000, 7),
    ])  # fmt: skip

    def item(name: str) -> Any:
        return panel.locator(f'[data-testid="upload-item"][data-file-name="{name}"]')

    await expect(item("建施-01 一层平面图.pdf")).to_contain_text(
        "按文件名中的图号对应到：1号楼 · 施工图 · 建施-01 一层平面图"
    )
    await expect(item("总图.pdf").locator("[data-field=status]")).to_have_text("未匹配，不会上传")
    await expect(item("设计说明.pdf")).to_contain_text("文件名开头没有目录中的图号")
    await expect(item("建施-021 详图.pdf")).to_contain_text("文件名开头没有目录中的图号")  # not 建施-02
    await item("总图.pdf").get_by_label("总图.pdf 对应的图纸条目").select_option(value=ids["总施-01"])
    await expect(item("总图.pdf").locator("[data-field=status]")).to_have_text("等待开始")
    await panel.get_by_role("button", name="开始上传").click()
    for name in ("建施-01 一层平面图.pdf", "总图.pdf"):
        await expect(item(name).locator("[data-field=percent]")).to_have_text("100%", timeout=20_000)
        await expect(item(name).locator("progress")).to_have_attribute("value", "100")
        await expect(item(name).locator("[data-field=status]")).to_contain_text("已完成", timeout=20_000)
    await expect(item("建施-01 一层平面图.pdf")).to_contain_text("已成为 建施-01 的第1版")
    await expect(item("设计说明.pdf").locator("[data-field=status]")).to_have_text("未匹配，不会上传")
    await expect(item("设计说明.pdf").locator("progress")).to_have_attribute("value", "0")

    await panel.get_by_label("并行分片上传").check()
    await panel.get_by_label("选择文件").set_input_files([pdf("建施-02-1 节点详图.pdf", 3 * MB, 4)])
    parallel = item("建施-02-1 节点详图.pdf")
    await expect(parallel).to_contain_text(
        "对应到：1号楼 · 施工图 · 建施-02-1 节点详图"
    )  # the longest number
    await panel.get_by_role("button", name="开始上传").click()
    await expect(parallel.locator("[data-field=percent]")).to_have_text("100%", timeout=30_000)
    await expect(parallel.locator("[data-field=status]")).to_contain_text(
        "已成为 建施-02-1 的第1版", timeout=30_000
    )
    concat = [r.headers.get("upload-concat", "") for r in tus if r.method == "POST"]
    assert concat.count("partial") == 2, concat  # two parts sent side by side…
    assert sum(c.startswith("final") for c in concat) == 1, concat  # …joined by the server
    assert all(r.headers.get("x-csrf-token") for r in tus if r.method in ("POST", "PATCH"))

    for number, size in (("建施-01", 200_000), ("总施-01", 50_000), ("建施-02-1", 3 * MB)):
        row = page.locator(f'#catalogue-rows tr[data-number="{number}"]')
        await expect(row.locator("[data-field=latest]")).to_contain_text("第1版")
        entry = (await owner.get(f"/api/v1/drawings/{ids[number]}")).json()
        assert [(v["version"], v["size"]) for v in entry["versions"]] == [(1, size)]
    row = page.locator('#catalogue-rows tr[data-number="建施-01"]')
    await expect(row.get_by_role("link", name="下载 建施-01 第1版")).to_have_attribute(
        "href", f"/api/v1/drawings/{ids['建施-01']}/versions/1/file"
    )
    await expect(page.locator('#catalogue-rows tr[data-number="建施-02"] [data-field=latest]')).to_have_text(
        "暂无文件"
    )

    await panel.get_by_label("选择文件").set_input_files([pdf("建施-01 一层平面图（修改）.pdf", 30_000, 5)])
    await panel.get_by_role("button", name="开始上传").click()
    await expect(item("建施-01 一层平面图（修改）.pdf")).to_contain_text(
        "已成为 建施-01 的第2版", timeout=20_000
    )
    await row.get_by_role("button", name="查看 建施-01 的全部版本").click()
    versions = page.locator(f'tr[data-versions-of="{ids["建施-01"]}"] li')
    await expect(versions).to_have_count(2)
    await expect(versions.first).to_contain_text("第2版：建施-01 一层平面图（修改）.pdf")
    await expect(versions.nth(1).get_by_role("link", name="下载 建施-01 第1版")).to_be_visible()

    link = page.get_by_role("link", name="打包下载")
    await expect(link).to_have_attribute("aria-disabled", "true")
    await row.get_by_role("checkbox").check()
    await page.get_by_label("选择 总施-01 总平面图").check()
    await page.get_by_label("选择单体“1号楼”的全部图纸").check()
    await expect(page.locator("#selection-summary")).to_have_text(
        "已选择 2 个图纸条目、1 个单体的全部图纸（打包每个条目的最新版本）"
    )
    href = await link.get_attribute("href")
    assert href is not None
    assert href.startswith(f"/api/v1/projects/{project_id}/package?")
    assert parse_qs(urlsplit(href).query) == {
        "drawing_id": [ids["建施-01"], ids["总施-01"]],
        "building_id": [ids["building"]],
    }
    answer = await page.request.get(href)
    assert answer.status == 200, await answer.text()
    names = zipfile.ZipFile(io.BytesIO(await answer.body())).namelist()
    assert len(names) == 3, names
    assert all(n.endswith(".pdf") for n in names), names
    assert any("建施-01" in n and "第2版" in n for n in names), names

    async with page.expect_download() as started:
        await link.click()  # checked with HEAD first, then downloaded by the browser
    assert (await started.value).suggested_filename.endswith("-图纸.zip")

    await page.get_by_role("button", name="清除选择").click()
    await expect(link).to_have_attribute("aria-disabled", "true")
    await page.get_by_label("选择 建施-02 二层平面图").check()
    await link.click()  # nothing selected has a file: the server's reason, shown on the page
    await expect(page.locator("#package-error")).to_have_text("所选图纸都还没有上传文件")


async def test_a_paused_upload_resumes_from_the_offset_the_server_holds(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn, tmp_path: Path
) -> None:
    owner = await as_user("pujiang")
    project_id = await new_project(owner)
    ids = await catalogue(owner, project_id, [("建施-09", "剖面图")])
    tus: list[tuple[str, dict[str, str]]] = []
    offsets: list[int] = []

    async def slow_patches(route: Route) -> None:
        if route.request.method == "PATCH":
            await asyncio.sleep(0.15)  # time to press 暂停 between 1 MB chunks
        with contextlib.suppress(Error):  # aborted by the pause while held here
            await route.continue_()

    def record(request: Request) -> None:
        if is_tus(request.url):
            tus.append((request.method, request.headers))

    def head_offset(response: Response) -> None:
        if is_tus(response.url) and response.request.method == "HEAD":
            offsets.append(int(response.headers["upload-offset"]))

    await page.route(is_tus, slow_patches)
    page.on("request", record)
    page.on("response", head_offset)
    await page.add_init_script("window.TONGBAN_TUS_CHUNK_BYTES = 1024 * 1024")
    await log_in("pujiang")
    await page.goto(f"/projects/{project_id}/drawings")
    panel = page.get_by_test_id("upload-panel")
    await expect(panel.get_by_label("选择文件")).to_be_enabled()  # the uploader is ready
    big = tmp_path / "建施-09 剖面图.pdf"  # a path, not a buffer: 20 MB through the driver takes seconds
    big.write_bytes(pdf_bytes(20 * MB, 6))
    await panel.get_by_label("选择文件").set_input_files(big)
    upload = panel.get_by_test_id("upload-item")
    await panel.get_by_role("button", name="开始上传").click()
    await expect(upload.locator("[data-field=status]")).to_have_text("上传中")
    await page.wait_for_function(
        "() => { const p = document.querySelector('[data-testid=upload-item] progress'); return p && p.value >= 15; }"
    )
    await upload.get_by_role("button", name="暂停上传 建施-09 剖面图.pdf").click()
    await expect(upload.locator("[data-field=status]")).to_have_text("已暂停")
    paused_at = int((await upload.locator("[data-field=percent]").text_content() or "0%").rstrip("%"))
    assert 0 < paused_at < 100
    await asyncio.sleep(0.5)
    assert await upload.locator("[data-field=percent]").text_content() == f"{paused_at}%"  # nothing more sent
    sent_before = len(tus)
    await page.unroute(is_tus, slow_patches)  # the rest at full speed

    await upload.get_by_role("button", name="继续上传 建施-09 剖面图.pdf").click()
    await expect(upload.locator("[data-field=percent]")).to_have_text("100%", timeout=60_000)
    await expect(upload.locator("[data-field=status]")).to_contain_text(
        "已成为 建施-09 的第1版", timeout=30_000
    )
    after = tus[sent_before:]
    assert after[0][0] == "HEAD", after[:2]  # asks the server where it stopped…
    first_patch = next(headers for method, headers in after if method == "PATCH")
    assert offsets
    assert offsets[-1] > 0
    assert int(first_patch["upload-offset"]) == offsets[-1]  # …and goes on from there
    assert [method for method, _ in tus].count("POST") == 1  # the same upload, not a new one
    entry = (await owner.get(f"/api/v1/drawings/{ids['建施-09']}")).json()
    assert entry["latest"]["size"] == 20 * MB


async def test_another_enterprise_gets_the_not_found_page_and_a_reader_gets_no_upload_panel(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn
) -> None:
    owner = await as_user("pujiang")
    project_id = await new_project(owner)
    await catalogue(owner, project_id, [("建施-01", "一层平面图")])

    await log_in("shencheng")
    answer = await page.goto(f"/projects/{project_id}/drawings")
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("项目不存在或无权查看")

    await log_in("admin")  # reads every project's drawings, uploads only to its own enterprise's
    await page.goto(f"/projects/{project_id}/drawings")
    await expect(page.get_by_test_id("page-info")).to_have_text("第 1 / 1 页，共 1 条")
    await expect(page.get_by_test_id("buildings")).to_contain_text("1号楼")
    await expect(page.get_by_test_id("upload-panel")).to_have_count(0)
    await expect(page.get_by_role("button", name="新增单体")).to_have_count(0)
    await expect(page.get_by_role("button", name="导入目录")).to_have_count(0)


async def test_a_refused_upload_says_why_and_its_retry_goes_on_from_the_server_offset(
    page: Page, server: ServerChild, as_user: AsUser, log_in: LogIn
) -> None:
    owner = await as_user("pujiang")
    project_id = await new_project(owner)
    ids = await catalogue(owner, project_id, [("建施-03", "三层平面图"), ("建施-04", "四层平面图")])
    methods: list[str] = []

    async def refuse_the_first_patch(route: Route) -> None:
        methods.append(route.request.method)
        if route.request.method == "PATCH" and methods.count("PATCH") == 1:
            body = json.dumps({"error": {"code": "forbidden", "message": "测试：服务器暂时拒绝"}})
            await route.fulfill(status=403, content_type="application/json", body=body,
                                headers={"Tus-Resumable": "1.0.0"})  # fmt: skip
        else:
            await route.continue_()

    await page.route(is_tus, refuse_the_first_patch)
    await log_in("pujiang")
    await page.goto(f"/projects/{project_id}/drawings")
    panel = page.get_by_test_id("upload-panel")
    await expect(panel.get_by_label("选择文件")).to_be_enabled()
    dropped = await page.evaluate_handle(
        """() => {
            const data = new DataTransfer();
            const body = new TextEncoder().encode("%PDF-1.7\\n" + "0".repeat(40000));
            data.items.add(new File([body], "建施-03三层平面图.pdf", { type: "application/pdf" }));
            return data;
        }"""
    )
    await page.locator("#drop-zone").dispatch_event("drop", {"dataTransfer": dropped})  # dropped like picked
    upload = panel.get_by_test_id("upload-item")
    await expect(upload).to_contain_text("对应到：1号楼 · 施工图 · 建施-03 三层平面图")
    await panel.get_by_role("button", name="开始上传").click()
    await expect(upload.locator("[data-field=status]")).to_have_text("上传失败：测试：服务器暂时拒绝")
    await expect(upload.get_by_role("button", name="暂停上传 建施-03三层平面图.pdf")).to_be_hidden()

    await upload.get_by_role("button", name="重试上传 建施-03三层平面图.pdf").click()
    await expect(upload.locator("[data-field=status]")).to_contain_text(
        "已成为 建施-03 的第1版", timeout=20_000
    )
    await expect(upload.get_by_role("button", name="重试上传 建施-03三层平面图.pdf")).to_be_hidden()
    assert methods == ["POST", "PATCH", "HEAD", "PATCH"], methods  # the same upload, asked where it stopped
    entry = (await owner.get(f"/api/v1/drawings/{ids['建施-03']}")).json()
    assert entry["latest"]["size"] == len("%PDF-1.7\n") + 40000

    not_a_pdf = {
        "name": "建施-04 四层平面图.pdf",
        "mimeType": "application/pdf",
        "buffer": b"GIF89a" + bytes(5000),
    }
    await panel.get_by_label("选择文件").set_input_files([not_a_pdf])
    forged = panel.locator('[data-testid="upload-item"][data-file-name="建施-04 四层平面图.pdf"]')
    await panel.get_by_role("button", name="开始上传").click()
    await expect(forged.locator("[data-field=status]")).to_contain_text("上传失败：文件类型不允许")
    entry = (await owner.get(f"/api/v1/drawings/{ids['建施-04']}")).json()
    assert entry["latest_version"] == 0
