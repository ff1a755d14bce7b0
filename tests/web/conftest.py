"""Browser fixtures: Debian's Chromium driven by Playwright (no browser is ever downloaded), one
browser per test session and a fresh context (cookies, storage) per test, pointed at the real
server subprocess of `tests/conftest.py`.

A page fails its test when its JavaScript throws: an uncaught error is a broken page even when the
assertions it reached happened to pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Error, Page, ViewportSize, async_playwright

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

LogIn = Callable[[str], Awaitable[None]]
AsUser = Callable[[str], Awaitable[httpx.AsyncClient]]  # the `as_user` fixture of tests/conftest.py


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
    """`await log_in("pujiang")`: the browser context holds that demo account's session cookie."""

    async def log_in_as(login_name: str) -> None:
        response = await context.request.post("/api/v1/dev/login", data={"login": login_name})
        assert response.status == 200, await response.text()

    return log_in_as
