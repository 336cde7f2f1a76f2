"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

No browser is downloaded: Playwright drives the system chromium at /usr/bin/chromium. One browser per test module
(starting chromium costs a second), a fresh context and page per test, and a screenshot in var/screens when a
test fails.
"""

import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from shop.models import User
from tests.factories import TEST_PASSWORD, second_factor_device_for_tests, totp_code
from tests.prerequisites import prerequisite_missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENS = Path(settings.BASE_DIR) / "var" / "screens"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    """Keep each phase's report on the test item, so the page fixture knows at teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{call.when}", report)
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        prerequisite_missing(f"{CHROMIUM} is missing: install Debian's chromium package")
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses database calls from a
    # thread with a running loop; the calls are in fact synchronous, so the guard is lifted while the browser lives.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page (own cookies) on the live server; a failing test leaves its screenshot in var/screens."""
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    yield new_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        new_page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def sign_in(page: Page) -> Callable[[User], Page]:
    """Sign in through the real form, as a person would, typing the authenticator's code when the role asks for
    one; returns the page on the dashboard."""

    def submit(user: User, password: str = TEST_PASSWORD) -> Page:
        device = second_factor_device_for_tests(user)
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        if device is not None:
            page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/verify/")
            # A test may sign the same user in twice within one 30-second step; the app refuses a code used before
            # (tests/shop/test_second_factor.py pins that), so the helper lets the device forget its last step.
            TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
            page.fill("#id_code", totp_code(device))
            page.click("[data-testid=second-factor-form] button[type=submit]")
        # The sign-in page's own address also ends in "/": wait for the dashboard's path exactly.
        page.wait_for_url(lambda url: urlsplit(url).path == "/")
        return page

    return submit
