"""An owner sets up the authenticator app on the first sign-in and signs in with its code afterwards, on a phone's
screen: the test reads the key from the page and computes the codes as the app would."""

import time
from base64 import b32decode
from urllib.parse import urlsplit

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page

from shop.models import User
from shop.roles import Role
from tests.factories import TEST_PASSWORD, make_user, second_factor_device_for_tests, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"


def app_code(secret: str, *, step_offset: int = 0) -> str:
    """What an authenticator app holding ``secret`` (base32, as the page shows it) displays now."""
    key = b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    totp = TOTP(key)
    totp.time = time.time() + 30 * step_offset
    return f"{totp.token():06d}"


def type_password(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")


def test_an_owner_enrols_on_a_phone_and_then_signs_in_with_the_apps_code(page: Page) -> None:
    owner = make_user(Role.OWNER, username="olga", language="en")
    page.set_viewport_size({"width": 390, "height": 800})

    type_password(page, owner)
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/second-factor/")
    assert page.locator("[data-testid=totp-qr] svg").is_visible()
    assert not page.evaluate(OVERFLOW)
    secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
    page.goto("/customers/")
    assert urlsplit(page.url).path == "/accounts/second-factor/"
    page.fill("#id_code", app_code(secret))
    page.click("[data-testid=second-factor-setup-form] button[type=submit]")

    codes = page.locator("[data-testid=backup-codes] li").all_inner_texts()
    assert len(codes) == 10
    assert not page.evaluate(OVERFLOW)
    page.click("[data-testid=continue]")
    page.wait_for_url(lambda url: urlsplit(url).path == "/customers/")

    page.context.clear_cookies()
    type_password(page, owner)
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/verify/")
    assert page.locator("nav a[data-nav=customers]").count() == 0
    # The code of enrolment was spent; the app's next one is accepted within the allowed drift of one step.
    page.fill("#id_code", app_code(secret, step_offset=1))
    page.click("[data-testid=second-factor-form] button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    assert page.locator("[data-testid=role]").inner_text() == "Owner"


def test_a_wrong_code_keeps_the_owner_on_the_code_page(page: Page) -> None:
    owner = make_user(Role.OWNER, language="en")
    device = second_factor_device_for_tests(owner)
    assert device is not None
    type_password(page, owner)
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/verify/")
    page.fill("#id_code", f"{(int(totp_code(device)) + 1) % 1_000_000:06d}")
    page.click("[data-testid=second-factor-form] button[type=submit]")

    assert "This code is wrong" in page.locator("[data-testid=second-factor-form]").inner_text()
    page.goto("/customers/")
    assert urlsplit(page.url).path == "/accounts/verify/"
