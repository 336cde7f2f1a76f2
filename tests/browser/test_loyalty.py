"""The owner creates a win-back rule in the editor and reads its preview, and the operator quotes it on a ringing
caller's card, in a real browser (Russian interface)."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from shop.models import User
from shop.roles import Role
from tests.browser.test_call_console import SECRET, console_of, ring
from tests.factories import CustomerPhoneFactory, CustomerScoreFactory, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARAMS = '{"value_kind": "percent", "curve": "steps", "steps": [["0.6", "10"]], "risk_threshold": "0.6"}'


def test_the_owner_creates_a_rule_and_sees_its_preview(sign_in: Callable[[User], Page]) -> None:
    CustomerScoreFactory.create(
        churn_risk=0.8, segment="at_risk", tier="high", expected_30=0.5, average_value=Decimal("2000")
    )
    CustomerScoreFactory.create(churn_risk=0.2, segment="loyal", tier="vip")
    page = sign_in(make_user(Role.OWNER))

    page.locator("[data-nav=loyalty]").click()
    expect(page.locator("h1")).to_have_text("Правила лояльности")
    page.get_by_test_id("new-rule").click()
    page.get_by_label("Название").fill("Вернуть уходящих")
    page.get_by_label("Вид").select_option("win_back")
    page.get_by_label("Параметры (JSON)").fill(PARAMS)
    page.get_by_test_id("save-rule").click()

    expect(page.locator("h1")).to_have_text("Вернуть уходящих")
    expect(page.get_by_test_id("qualifying")).to_have_text("1")
    expect(page.get_by_test_id("control")).to_have_text("0")
    expect(page.get_by_test_id("cost")).to_contain_text("100")
    expect(page.get_by_test_id("history")).to_contain_text("создан")


def test_the_owners_new_rule_is_quoted_on_a_callers_card_by_the_operator(
    sign_in: Callable[[User], Page], browser: Browser, live_server: LiveServer, settings: Any
) -> None:
    settings.TELEPHONY_WEBHOOK_SECRET = SECRET
    score = CustomerScoreFactory.create(
        churn_risk=0.8, segment="at_risk", tier="high", expected_30=0.5, average_value=Decimal("2000")
    )
    CustomerPhoneFactory.create(customer=score.customer, number="+79991234567")
    page = sign_in(make_user(Role.OWNER))
    page.goto("/loyalty/rules/new/")
    page.get_by_label("Название").fill("Вернуть уходящих")
    page.get_by_label("Вид").select_option("win_back")
    page.get_by_label("Параметры (JSON)").fill(PARAMS)
    page.get_by_label("Активен").check()
    page.get_by_test_id("save-rule").click()
    expect(page.get_by_test_id("qualifying")).to_have_text("1")

    context = browser.new_context(base_url=live_server.url, locale="ru-RU", viewport={"width": 1280, "height": 900})
    try:
        console = console_of(context, make_user(Role.OPERATOR, extension="201"))
        ring("201", "loyalty-1", "8 (999) 123-45-67")
        card = console.get_by_test_id("caller-card")
        expect(card).to_be_visible()
        win_back = card.locator("[data-offer=win_back]")
        expect(win_back.get_by_test_id("offer-value")).to_have_text("10%")
        expect(win_back).to_contain_text("Вернуть уходящих")
        card.get_by_label("Сумма корзины").fill("5000")
        card.get_by_test_id("quote-submit").click()
        expect(card.get_by_test_id("quote-offer")).to_contain_text("Вернуть уходящих")
        expect(card.get_by_test_id("quote-offer")).to_contain_text("500")
        expect(card.get_by_test_id("quote-total")).to_have_text("4\u00a0500\u00a0₽")
    finally:
        context.close()
