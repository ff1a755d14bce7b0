"""The deliverables page and the public verification page in a real browser: the owner generates the
结构设计总说明 from a saved filling version, watches it render live, previews its sheets, issues it; the
QR code decoded from the previewed sheet opens the verification page, which says the document is
genuine, and a file checked there is compared with the registered original."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import BrowserContext, Page, expect

from docgen import samples
from docgen.stamp import parse_payload
from tests.server.deliverables.test_deliverables import decode_qr, saved_version
from tests.support.processes import ServerChild
from tests.web.conftest import AsUser, LogIn

pytestmark = pytest.mark.usefixtures("worker")


async def test_a_sheet_is_generated_previewed_issued_and_its_qr_opens_a_verification_page_that_finds_it_genuine(
    page: Page, context: BrowserContext, server: ServerChild, as_user: AsUser, log_in: LogIn, tmp_path
) -> None:
    owner = await as_user("pujiang")
    project_id, doc_id, version_id = await saved_version(server, owner, samples.filling())
    await log_in("pujiang")
    await page.goto(f"/projects/{project_id}")
    await page.get_by_test_id("deliverables-link").click()
    await page.wait_for_url(f"**/projects/{project_id}/deliverables")

    await page.get_by_label("文件类型").select_option(label="结构设计总说明")
    await page.get_by_label("填报文档").select_option(doc_id)
    await page.get_by_label("已保存版本").select_option(version_id)
    await page.get_by_role("button", name="生成并预览").click()
    status = page.get_by_test_id("detail-status")
    await expect(status).to_have_text("待签发", timeout=60_000)
    previews = page.get_by_test_id("previews").locator("img")
    await expect(previews.first).to_be_visible()
    loaded = await previews.first.evaluate("img => img.complete && img.naturalWidth > 1000")
    assert loaded is True
    deliverable_id = await page.get_by_test_id("detail-id").text_content()
    assert deliverable_id is not None

    image = await context.request.get(await previews.first.get_attribute("src") or "")
    (payload,) = decode_qr(await image.body())
    assert parse_payload(payload) is not None
    assert parse_payload(payload)[0] == deliverable_id  # type: ignore[index]

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="签发").click()
    await expect(status).to_have_text("有效（已签发）")
    async with page.expect_download() as download_info:
        await page.locator('#detail-files a[data-ext="pdf"]').click()
    pdf = tmp_path / "sheet.pdf"
    await (await download_info.value).save_as(pdf)

    await page.reload()  # the list shows it, and 查看 opens it again
    await page.get_by_role("button", name=f"查看 {deliverable_id}").click()
    await expect(page.get_by_test_id("detail-status")).to_have_text("有效（已签发）")
    await expect(page.get_by_test_id("detail-id")).to_have_text(deliverable_id)

    visitor = await context.browser.new_context(base_url=server.url)  # type: ignore[union-attr]
    verify = await visitor.new_page()
    scanned = urlsplit(payload)  # its host is the deployment's TONGBAN_PUBLIC_URL; the path is ours
    await verify.goto(f"{scanned.path}?{scanned.query}")
    await expect(verify.get_by_test_id("verdict-label")).to_have_text("真实有效")
    await expect(verify.get_by_test_id("doc-title")).to_have_text("结构设计总说明")
    await expect(verify.get_by_test_id("digest-check")).to_have_text("与登记一致")
    await verify.get_by_label("文件").set_input_files(pdf)
    await verify.get_by_role("button", name="核对").click()
    await expect(verify.get_by_test_id("file-result")).to_contain_text("文件与登记的原件一致")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(pdf.read_bytes() + b"%tampered\n")
    await verify.get_by_label("文件").set_input_files(tampered)
    await verify.get_by_role("button", name="核对").click()
    await expect(verify.get_by_test_id("file-result")).to_contain_text("被修改")

    await verify.goto(f"/verify/{deliverable_id}?sm3={'1' * 64}")
    await expect(verify.get_by_test_id("verdict-message")).to_contain_text("篡改或伪造")
    await visitor.close()
