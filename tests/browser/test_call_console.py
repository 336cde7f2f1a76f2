"""The screen-pop in a real browser: a ringing call appears on its operator's console, and only there."""

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from customers.services import CustomerData
from orders.models import ChangeOrigin, OrderStatus
from orders.services import OrderData, order_upsert
from shop.models import User
from shop.roles import Role
from tests.browser.conftest import SCREENS
from tests.factories import TEST_PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "browser-telephony-secret"


@pytest.fixture
def consoles(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[User], Page]]:
    """Signed-in operator consoles, each in its own browser context; closed before the database goes away, so no
    console is still polling the live server after the test."""
    contexts: list[BrowserContext] = []

    def open_console(user: User) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return console_of(context, user)

    yield open_console
    for context in contexts:
        context.close()


def console_of(context: BrowserContext, user: User) -> Page:
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/call/")
    expect(page.get_by_test_id("waiting")).to_be_visible()
    return page


def ring(extension: str, call_id: str, caller: str) -> None:
    body = json.dumps({"event": "ringing", "call_id": call_id, "caller": caller, "extension": extension}).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    response = Client().post(
        reverse("api:telephony_events"),
        data=body,
        content_type="application/json",
        HTTP_X_RETAIN_TIMESTAMP=stamp,
        HTTP_X_RETAIN_SIGNATURE=f"sha256={signature}",
    )
    assert response.status_code == 200, response.content


def test_a_ringing_call_pops_the_card_on_its_operators_console_only(consoles, settings):
    settings.TELEPHONY_WEBHOOK_SECRET = SECRET
    order_upsert(
        data=OrderData(
            source="web",
            external_id="A-1",
            customer=CustomerData(source="web", name="Елена Кузнецова", phones=("+79991234567",)),
            placed_at=datetime(2026, 5, 1, tzinfo=UTC),
            status=OrderStatus.DELIVERED,
            total=Decimal("4500.00"),
        ),
        origin=ChangeOrigin.API,
    )
    mine = consoles(make_user(Role.OPERATOR, extension="401"))
    other = consoles(make_user(Role.OPERATOR, extension="402"))

    started = time.monotonic()
    ring("401", "call-1", "8 (999) 123-45-67")
    expect(mine.get_by_test_id("caller-card")).to_be_visible(timeout=2_000)
    delay = time.monotonic() - started
    expect(mine.get_by_test_id("caller-card")).to_contain_text("Елена Кузнецова")
    expect(mine.get_by_test_id("call-banner")).to_be_visible()
    SCREENS.mkdir(parents=True, exist_ok=True)
    mine.screenshot(path=str(SCREENS / "call-console-ringing.png"), full_page=True)

    other.wait_for_timeout(1_500)
    expect(other.get_by_test_id("caller-card")).to_have_count(0)
    expect(other.get_by_test_id("waiting")).to_be_visible()

    # The card survives a refresh while the call is live.
    mine.reload()
    expect(mine.get_by_test_id("caller-card")).to_contain_text("Елена Кузнецова")
    print(f"ring-to-card delay: {delay * 1000:.0f} ms")  # read by bench/README.md; the 2 s bound is the expect above


def test_an_unknown_caller_gets_a_one_step_create_form(consoles, settings):
    settings.TELEPHONY_WEBHOOK_SECRET = SECRET
    page = consoles(make_user(Role.OPERATOR, extension="501"))
    ring("501", "call-2", "+7 916 555-44-33")
    expect(page.get_by_test_id("unknown-caller")).to_be_visible(timeout=2_000)
    page.fill("input[name=name]", "Новый Клиент")
    page.click("[data-testid=unknown-caller] button[type=submit]")
    expect(page.get_by_test_id("caller-card")).to_contain_text("Новый Клиент")
