"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

One browser for the whole run and a fresh context (cookies, storage) for every test, so tests stay
independent while the slow part, starting Chromium, happens once. These fixtures must never talk to
anything outside the machine: the SMS gateway is the memory backend set in tongban.core.testenv.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tongban.org import demo

# Debian's package puts Chromium here; `playwright install` is never used (no download).
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DESKTOP = {"width": 1366, "height": 768}  # a window clerk's screen

# A shared machine under load can take longer than Playwright's 5 s default to answer an htmx swap;
# waiting longer costs nothing when the page is quick.
expect.set_options(timeout=15_000)
ARTIFACTS = "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    # Keep each phase's outcome on the test item, so the page fixture knows whether to take a screenshot.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package", autouse=True)
def allow_orm_beside_playwright() -> Iterator[None]:
    # Playwright's sync API keeps an asyncio event loop running in this thread, so Django believes
    # it is called from async code and refuses the ORM calls the tests make themselves (loading the
    # demo organisation, reading ids, flushing the database). Nothing here is really concurrent: the
    # live server answers in its own thread while the test waits for the browser. The check is off
    # only while this folder's tests run, so the rest of the suite keeps it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


# One browser for this folder's tests: package scope stops it, and its event loop, after the last one.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(
            f"找不到 Chromium（{CHROMIUM_PATH}）：请安装 Debian 的 chromium，或设置 CHROMIUM_PATH。"
        )
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM_PATH,
        headless=True,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    yield browser
    browser.close()


@pytest.fixture
def new_page(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context: `new_page(viewport={"width": 390, "height": 844})`.

    Relative URLs go to the live server. On failure each page is saved as a PNG in test-artifacts/.
    """
    contexts: list[BrowserContext] = []

    def open_page(**context_options: Any) -> Page:
        options = {"locale": "zh-CN", "viewport": DESKTOP, "base_url": live_server.url}
        options.update(context_options)
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = request.config.rootpath / ARTIFACTS
        folder.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                with contextlib.suppress(PlaywrightError):  # a screenshot must not hide the failure
                    page.screenshot(path=folder / f"{name}-{n}-{m}.png", full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A desktop-sized page (1366×768, zh-CN) on the live server."""
    return new_page()


@pytest.fixture(autouse=True)
def _national_calendar(national_calendar: None) -> None:
    """A browser test's database is committed for the live server and emptied after each test:
    every one gets the seeded holiday tables back (the root conftest's fixture)."""


@pytest.fixture
def demo_org(transactional_db: None) -> list[demo.DemoLogin]:
    """The demo county (沅江市), committed so that the live server sees it."""
    return demo.load_demo_organisation()


@pytest.fixture
def sign_in(page: Page) -> Callable[..., None]:
    """Sign a staff member in through the form on the sign-in page, as a person would."""

    def sign_in_as(username: str, password: str = demo.DEMO_PASSWORD) -> None:
        page.goto("/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="登录", exact=True).click()

    return sign_in_as
