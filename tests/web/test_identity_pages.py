"""The identity pages in a real browser: password and SMS-code login, the account page (password and
phone changes, logging out everywhere), and how the login, account and admin pages lay out.

Tests that change or lock an account use one made for them (`make_account`), so the demo accounts
keep the password every other test logs in with.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Error, Page, ViewportSize, expect

from server.config import Settings
from tests.support.clients import DEMO_PASSWORD
from tests.support.processes import ServerChild
from tests.web.conftest import (
    VIEWPORT,
    LogIn,
    MakeAccount,
    api_login,
    fill_password_login,
    new_password,
    new_phone,
)

PHONE: ViewportSize = {"width": 390, "height": 844}
SMS_CODE = re.compile(r"^\d{6}$")
COUNTDOWN = re.compile(r"^重新获取（\d+ 秒）$")
# The expired-password test ages the account's password past any policy's maximum age.
AGE_PASSWORD = "UPDATE app_user SET password_changed_at = now() - interval '400 days' WHERE login = $1"


async def read_demo_sms(page: Page) -> str:
    code = page.get_by_test_id("dev-sms-code")
    await expect(code).to_have_text(SMS_CODE)
    return await code.inner_text()


async def test_a_wrong_password_shows_the_chinese_error_with_the_tries_left_and_the_right_one_then_logs_in(
    page: Page, server: ServerChild, settings: Settings, make_account: MakeAccount, tmp_path: Path
) -> None:
    account = await make_account()
    await page.goto("/login")

    await fill_password_login(page, account.login, "Wrong-password-1")

    alert = page.locator("#password-error")
    await expect(alert).to_have_attribute("role", "alert")
    await expect(alert).to_have_text(f"用户名或密码错误，还可尝试 {settings.login_max_failures - 1} 次")
    await expect(page.locator("#password-login").get_by_label("密码")).to_have_value("")
    assert page.url == f"{server.url}/login"
    await page.screenshot(path=tmp_path / "login-wrong-password.png")

    await fill_password_login(page, account.login, account.password)

    await expect(page).to_have_url(f"{server.url}/projects")
    await expect(page.get_by_test_id("current-user")).to_have_text(
        "临时用户 · 上海浦江置业有限公司 · 建设单位申请人"
    )


async def test_an_sms_login_through_the_page_reads_its_code_from_the_demo_inbox_and_lands_on_next(
    page: Page, server: ServerChild, make_account: MakeAccount, tmp_path: Path
) -> None:
    account = await make_account(role="agent", name="短信用户")
    await page.goto("/account")
    await expect(page).to_have_url(f"{server.url}/login?next=/account")

    await page.get_by_role("tab", name="短信验证码登录").click()
    await expect(page.locator("#panel-password")).to_be_hidden()
    form = page.locator("#sms-login")
    await form.get_by_label("手机号").fill(account.phone)
    send = form.get_by_role("button", name="获取验证码")
    await send.click()

    # The resend button counts down from the server's cooldown; the demo inbox shows the message.
    await expect(form.locator("#sms-send")).to_have_text(COUNTDOWN)
    await expect(form.locator("#sms-send")).to_be_disabled()
    inbox = page.get_by_role("complementary", name="演示短信收件箱")
    masked = f"{account.phone[:3]}****{account.phone[-4:]}"
    await expect(inbox).to_contain_text(f"发往 {masked}")
    code = await read_demo_sms(page)
    await page.screenshot(path=tmp_path / "login-sms-code.png")
    await form.get_by_label("验证码").fill(code)
    await form.get_by_role("button", name="登录", exact=True).click()

    await expect(page).to_have_url(f"{server.url}/account")
    await expect(page.get_by_test_id("current-user")).to_have_text("短信用户 · 上海浦江置业有限公司 · 经办人")
    await expect(page.locator('[data-field="phone"]')).to_have_text(masked)


async def test_a_wrong_sms_code_shows_the_servers_chinese_message_and_logs_nobody_in(
    page: Page, server: ServerChild, make_account: MakeAccount
) -> None:
    account = await make_account()
    await page.goto("/login")
    await page.get_by_role("tab", name="短信验证码登录").click()
    form = page.locator("#sms-login")
    await form.get_by_label("手机号").fill(account.phone)
    await form.get_by_role("button", name="获取验证码").click()
    code = await read_demo_sms(page)

    await form.get_by_label("验证码").fill(f"{(int(code) + 1) % 10**6:06d}")
    await form.get_by_role("button", name="登录", exact=True).click()

    await expect(form.get_by_role("alert")).to_contain_text("验证码")
    assert page.url == f"{server.url}/login"


async def test_changing_the_password_on_the_account_page_forces_a_new_login_where_only_the_new_one_works(
    page: Page, server: ServerChild, log_in: LogIn, make_account: MakeAccount
) -> None:
    account = await make_account()
    await log_in(account.login, account.password)
    await page.goto("/account")
    form = page.locator("#change-password")

    # A weak password is refused with the rules it breaks, and nothing changes.
    await form.get_by_label("当前密码").fill(account.password)
    await form.get_by_label("新密码", exact=True).fill("abc")
    await form.get_by_label("再次输入新密码").fill("abc")
    await form.get_by_role("button", name="修改密码").click()
    await expect(form.get_by_role("alert")).to_contain_text("密码不符合要求：长度至少 8 位")
    assert page.url == f"{server.url}/account"

    changed = new_password()
    await form.get_by_label("新密码", exact=True).fill(changed)
    await form.get_by_label("再次输入新密码").fill(changed)
    await form.get_by_role("button", name="修改密码").click()

    await expect(page).to_have_url(f"{server.url}/login?notice=password_changed")
    await expect(page.get_by_role("status")).to_have_text(
        "密码已修改，所有设备上的登录均已结束，请使用新密码登录。"
    )
    await page.goto("/account")  # this browser's session ended with the change
    await expect(page).to_have_url(f"{server.url}/login?next=/account")
    assert (await api_login(server, account.login, account.password)).status_code == 401

    await fill_password_login(page, account.login, changed)

    await expect(page).to_have_url(f"{server.url}/account")
    await expect(page.get_by_role("heading", name="我的账号")).to_be_visible()


async def test_a_user_whose_password_expired_is_sent_to_the_account_page_with_a_notice_to_change_it(
    page: Page, server: ServerChild, pool: Any, make_account: MakeAccount
) -> None:
    account = await make_account()
    await pool.execute(AGE_PASSWORD, account.login)
    await page.goto("/login?next=/projects")

    await fill_password_login(page, account.login, account.password)

    await expect(page).to_have_url(f"{server.url}/account?expired=1")
    await expect(page.locator("#expired-notice")).to_have_text(
        "您的密码已超过有效期，请先修改密码后再继续办理业务。"
    )


async def test_changing_the_phone_needs_the_password_and_a_code_sent_to_the_new_number(
    page: Page, server: ServerChild, log_in: LogIn, make_account: MakeAccount
) -> None:
    account = await make_account()
    await log_in(account.login, account.password)
    await page.goto("/account")
    form = page.locator("#change-phone")
    phone = new_phone()
    masked = f"{phone[:3]}****{phone[-4:]}"

    await form.get_by_label("新手机号").fill(phone)
    await form.get_by_label("当前密码（验证身份）").fill("Not-my-password-1")
    await form.get_by_role("button", name="向新手机号发送验证码").click()
    await expect(form.get_by_role("alert")).to_contain_text("当前密码不正确")
    await expect(form.get_by_label("验证码")).to_be_disabled()

    await form.get_by_label("当前密码（验证身份）").fill(account.password)
    await form.get_by_role("button", name="向新手机号发送验证码").click()
    await expect(form.locator("#phone-send")).to_have_text(COUNTDOWN)
    await expect(page.get_by_role("complementary", name="演示短信收件箱")).to_contain_text(f"发往 {masked}")
    await form.get_by_label("验证码").fill(await read_demo_sms(page))
    await form.get_by_role("button", name="确认更换").click()

    await expect(form.get_by_role("status")).to_have_text(f"手机号已更换为 {masked}。")
    await expect(page.locator('[data-field="phone"]')).to_have_text(masked)
    await page.reload()
    await expect(page.locator('[data-field="phone"]')).to_have_text(masked)


async def test_logging_out_everywhere_ends_the_sessions_of_every_other_device_too(
    page: Page, server: ServerChild, log_in: LogIn, make_account: MakeAccount
) -> None:
    account = await make_account()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as other_device:
        answer = await other_device.post(
            "/api/v1/login", json={"login": account.login, "password": account.password}
        )
        assert answer.status_code == 200, answer.text
        await log_in(account.login, account.password)
        await page.goto("/account")

        await page.get_by_role("button", name="退出所有设备").click()

        await expect(page).to_have_url(f"{server.url}/login?notice=logged_out_everywhere")
        await expect(page.get_by_role("status")).to_have_text("已退出所有设备上的登录，请重新登录。")
        assert (await other_device.get("/api/v1/me")).status_code == 401


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["desktop", "phone"])
async def test_the_identity_pages_lay_out_without_sideways_scrolling_on_desktops_and_phones(
    browser: Browser, server: ServerChild, tmp_path: Path, viewport: ViewportSize
) -> None:
    """Screenshots of each page land in tmp_path for a person to look at."""
    context = await browser.new_context(
        base_url=server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport
    )
    errors: list[Error] = []
    try:
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(error))
        await page.goto("/login")
        await expect(page.get_by_role("heading", name="登录联审平台")).to_be_visible()
        await check_layout(page, viewport, tmp_path / "login.png")
        await page.get_by_role("tab", name="短信验证码登录").click()
        await expect(page.get_by_role("complementary", name="演示短信收件箱")).to_be_visible()
        await check_layout(page, viewport, tmp_path / "login-sms.png")

        await page.get_by_role("tab", name="密码登录").click()
        await fill_password_login(page, "admin", DEMO_PASSWORD)
        await expect(page).to_have_url(f"{server.url}/projects")
        for path, heading, shot in [
            ("/account", "我的账号", "account.png"),
            ("/admin/users", "用户管理", "admin-users.png"),
            ("/admin/roles", "角色权限", "admin-roles.png"),
        ]:
            await page.goto(path)
            await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            await check_layout(page, viewport, tmp_path / shot)
        assert not errors, f"the page threw: {errors}"
    finally:
        await context.close()


async def check_layout(page: Page, viewport: ViewportSize, shot: Path) -> None:
    await page.screenshot(path=shot, full_page=True)
    await page.screenshot(path=shot.with_stem(f"{shot.stem}-first-screen"))  # what shows before scrolling
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], shot.name
