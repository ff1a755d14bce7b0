"""Browser fixtures: Debian's Chromium driven by Playwright (no browser is ever downloaded), one
browser per test session and a fresh context (cookies, storage) per test, pointed at the real
server subprocess of `tests/conftest.py`; logging in (by the API or the login form) and accounts
made for one test (`make_account`), so no test changes or locks a shared demo account.

A page fails its test when its JavaScript throws: an uncaught error is a broken page even when the
assertions it reached happened to pass.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Error, Page, ViewportSize, async_playwright

from server.seed import USERS, stable_id
from tests.support.clients import DEMO_PASSWORD
from tests.support.processes import ServerChild

CHROMIUM = Path("/usr/bin/chromium")
# Headless in containers: no sandbox (no user namespaces), no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}

AsUser = Callable[[str], Awaitable[httpx.AsyncClient]]  # the `as_user` fixture of tests/conftest.py
PUJIANG = next(u for u in USERS if u.login == "pujiang")


class LogIn:
    """`await log_in("pujiang")`: the browser context holds that account's session cookie."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context

    async def __call__(self, login_name: str, password: str = DEMO_PASSWORD) -> None:
        response = await self.context.request.post(
            "/api/v1/login", data={"login": login_name, "password": password}
        )
        assert response.status == 200, await response.text()


@dataclass(frozen=True)
class Account:
    """An account made for one test, so changing or locking it leaves the demo accounts alone."""

    id: str
    login: str
    name: str
    phone: str
    password: str
    role: str


def new_password() -> str:
    """A password the 等保 policy accepts: upper, lower, digits and a special character."""
    return f"Qa-{secrets.token_hex(4)}-9x"


def new_phone() -> str:
    return f"1376{secrets.randbelow(10**7):07d}"  # outside the demo accounts' 139000000xx


MakeAccount = Callable[..., Awaitable[Account]]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure_browser.sh` (chromium, fonts-noto-cjk)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser, server: ServerChild) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(
        base_url=server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT
    )
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    tab = await context.new_page()
    errors: list[Error] = []

    def record(error: Error) -> None:
        errors.append(error)

    tab.on("pageerror", record)
    yield tab
    assert not errors, f"the page threw: {errors}"


@pytest.fixture
def log_in(context: BrowserContext) -> LogIn:
    return LogIn(context)


@pytest.fixture
def make_account(as_user: AsUser) -> MakeAccount:
    """`await make_account(role="agent")`: a new active account of 上海浦江置业, created by "admin"
    through the admin API, with its own phone number and password."""

    async def make(role: str = "applicant", name: str = "临时用户") -> Account:
        admin = await as_user("admin")
        account = Account(
            id="", login=f"tmp{secrets.token_hex(5)}", name=name, phone=new_phone(), password=new_password(),
            role=role,
        )  # fmt: skip
        response = await admin.post(
            "/api/v1/admin/users",
            json={
                "login": account.login, "name": account.name, "org_id": str(stable_id("org", PUJIANG.org_code)),
                "role": role, "phone": account.phone, "password": account.password,
            },
        )  # fmt: skip
        assert response.status_code == 201, response.text
        return replace(account, id=response.json()["id"])

    return make


async def fill_password_login(page: Page, login_name: str, password: str) -> None:
    """Log in through the login page's password form."""
    form = page.locator("#password-login")
    await form.get_by_label("登录名").fill(login_name)
    await form.get_by_label("密码").fill(password)
    await form.get_by_role("button", name="登录").click()


async def api_login(server: ServerChild, login_name: str, password: str) -> httpx.Response:
    """The answer to one password login from a fresh client, as another device would get it."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        return await client.post("/api/v1/login", json={"login": login_name, "password": password})


Open = Callable[[str, str], Awaitable[Page]]  # (login, path) → a page in that user's own browser context


@pytest.fixture
async def open_as(browser: Browser, server: ServerChild) -> AsyncIterator[Open]:
    """Pages of several users, each in a fresh browser context; any page's JavaScript error fails the test."""
    contexts = []
    errors: list[Error] = []

    def record(error: Error) -> None:
        errors.append(error)

    async def open_page(login: str, path: str) -> Page:
        context = await browser.new_context(
            base_url=server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT
        )
        contexts.append(context)
        await LogIn(context)(login)
        page = await context.new_page()
        page.on("pageerror", record)
        await page.goto(path)
        return page

    yield open_page
    for context in contexts:
        await context.close()
    assert not errors, f"a page threw: {errors}"


