"""The administration pages in a real browser: creating accounts, changing their role and status,
the role × permission table, and the header links and 403 pages that follow the permission table.

Tests that change an account use one made for them (`make_account`); the one that changes the
permission table grants a permission no role holds by default and takes it back, whatever happens.
"""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.support.processes import ServerChild
from tests.web.conftest import (
    AsUser,
    LogIn,
    MakeAccount,
    api_login,
    fill_password_login,
    new_password,
    new_phone,
)


async def test_an_admin_creates_a_user_through_the_page_and_that_user_then_logs_in(
    page: Page, server: ServerChild, log_in: LogIn
) -> None:
    login_name = f"new{new_phone()[-6:]}"
    password = new_password()
    await log_in("admin")
    await page.goto("/projects")
    await page.get_by_role("navigation").get_by_role("link", name="用户管理").click()
    await expect(page).to_have_url(f"{server.url}/admin/users")
    form = page.locator("#create-user")

    await form.get_by_label("登录名").fill(login_name)
    await form.get_by_label("姓名").fill("孙丽")
    await form.get_by_label("单位").select_option(label="上海浦江置业有限公司")
    await form.get_by_label("角色").select_option(label="经办人")
    await form.get_by_label("手机号（选填，用于短信登录）").fill(new_phone())
    await form.get_by_label("初始密码").fill(password)
    await form.get_by_role("button", name="新建用户").click()

    await expect(page).to_have_url(re.compile(r"/admin/users\?created=[0-9a-f-]{36}$"))
    await expect(page.locator("#created-notice")).to_have_text(
        f"已新建用户 {login_name}（孙* · 上海浦江置业有限公司 · 经办人）。"
    )
    row = page.locator("#users tbody tr", has_text=login_name)
    await expect(row.locator("td").nth(1)).to_have_text("孙*")  # names and phones are masked
    await expect(row.locator("td.status")).to_have_text("正常")

    await page.get_by_role("button", name="退出").click()
    await expect(page).to_have_url(f"{server.url}/login")
    await fill_password_login(page, login_name, password)

    await expect(page).to_have_url(f"{server.url}/projects")
    await expect(page.get_by_test_id("current-user")).to_have_text("孙丽 · 上海浦江置业有限公司 · 经办人")


async def test_a_new_user_form_with_a_bad_login_names_the_field_and_creates_nobody(
    page: Page, log_in: LogIn, as_user: AsUser
) -> None:
    admin = await as_user("admin")
    before = len((await admin.get("/api/v1/admin/users")).json()["items"])
    await log_in("admin")
    await page.goto("/admin/users")
    form = page.locator("#create-user")

    await form.get_by_label("登录名").fill("Bad Login")
    await form.get_by_label("姓名").fill("错误示例")
    await form.get_by_label("单位").select_option(label="上海浦江置业有限公司")
    await form.get_by_label("初始密码").fill(new_password())
    await form.get_by_role("button", name="新建用户").click()

    await expect(form.get_by_role("alert")).to_have_text("提交的数据不符合要求：登录名")
    await expect(form.get_by_label("登录名")).to_have_attribute("aria-invalid", "true")
    assert len((await admin.get("/api/v1/admin/users")).json()["items"]) == before


async def test_an_admin_disables_a_user_on_the_users_page_which_ends_their_session_and_login_at_once(
    page: Page, server: ServerChild, log_in: LogIn, make_account: MakeAccount
) -> None:
    account = await make_account()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as theirs:
        answer = await theirs.post(
            "/api/v1/login", json={"login": account.login, "password": account.password}
        )
        assert answer.status_code == 200, answer.text
        await log_in("admin")
        await page.goto("/admin/users")
        row = page.locator(f'#users tr[data-login="{account.login}"]')

        await row.get_by_role("button", name="停用").click()

        await expect(row.locator("td.status")).to_have_text("已停用")
        await expect(page.locator("#users-status")).to_have_text(
            f"已停用 {account.login}，其全部登录已结束。"
        )
        await expect(row.get_by_role("button", name="启用")).to_be_visible()
        assert (await theirs.get("/api/v1/me")).status_code == 401
        assert (await api_login(server, account.login, account.password)).status_code == 401

        await row.get_by_role("button", name="启用").click()
        await expect(row.locator("td.status")).to_have_text("正常")
        assert (await api_login(server, account.login, account.password)).status_code == 200


async def test_an_admin_changes_a_users_role_on_the_users_page_and_the_page_shows_the_new_role_after_a_reload(
    page: Page, log_in: LogIn, make_account: MakeAccount
) -> None:
    account = await make_account()
    await log_in("admin")
    await page.goto("/admin/users")
    select = page.get_by_label(f"{account.login} 的角色")
    await expect(select).to_have_value("applicant")

    await select.select_option(label="设计人员")

    await expect(page.locator("#users-status")).to_have_text(
        f"已将 {account.login} 的角色改为“设计人员”，其全部登录已结束。"
    )
    await page.reload()
    await expect(page.get_by_label(f"{account.login} 的角色")).to_have_value("designer")
    # The admin's own row cannot be disabled or given another role.
    own = page.locator('#users tr[data-login="admin"]')
    await expect(own.get_by_role("combobox")).to_be_disabled()
    await expect(own.get_by_role("button", name="停用")).to_be_disabled()


async def test_granting_then_revoking_a_permission_on_the_roles_page_gives_then_takes_the_roles_access(
    page: Page, server: ServerChild, log_in: LogIn, as_user: AsUser
) -> None:
    expert = await as_user("expert")  # 评标专家: no project.read by default
    admin = await as_user("admin")
    assert (await expert.get("/projects")).status_code == 403
    await log_in("admin")
    await page.goto("/projects")
    await page.get_by_role("navigation").get_by_role("link", name="角色权限").click()
    await expect(page).to_have_url(f"{server.url}/admin/roles")
    box = page.get_by_role("checkbox", name="评标专家：查看本单位项目")
    status = page.locator("#roles-status")
    try:
        await expect(box).not_to_be_checked()

        await box.check()

        await expect(status).to_have_text("已授予“评标专家”权限“查看本单位项目”。")
        assert (await expert.get("/projects")).status_code == 200

        await box.uncheck()

        await expect(status).to_have_text("已收回“评标专家”的权限“查看本单位项目”。")
        denied = await expert.get("/projects")
        assert denied.status_code == 403
        assert "没有执行该操作的权限" in denied.text
        await page.reload()
        await expect(page.get_by_role("checkbox", name="评标专家：查看本单位项目")).not_to_be_checked()
        # The admin cannot take permission management from their own role.
        await expect(page.get_by_role("checkbox", name="系统管理员：管理角色权限")).to_be_disabled()
    finally:  # leave the table as the other tests expect it, whatever happened above
        await admin.delete("/api/v1/admin/roles/bid_expert/permissions/project.read")


async def test_only_roles_holding_the_permissions_see_the_admin_links_and_others_get_a_chinese_403_page(
    page: Page, log_in: LogIn
) -> None:
    await log_in("pujiang")
    await page.goto("/projects")
    nav = page.get_by_role("navigation")
    await expect(nav.get_by_role("link", name="项目")).to_be_visible()
    await expect(nav.get_by_role("link", name="我的账号")).to_be_visible()
    await expect(nav.get_by_role("link", name="用户管理")).to_have_count(0)
    await expect(nav.get_by_role("link", name="角色权限")).to_have_count(0)

    response = await page.goto("/admin/users")

    assert response is not None
    assert response.status == 403
    await expect(page.get_by_role("heading", name="没有执行该操作的权限")).to_be_visible()
