"""The owner creates a win-back rule in the editor and reads its preview, in a real browser (Russian interface)."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from shop.models import User
from shop.roles import Role
from tests.factories import CustomerScoreFactory, make_user

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
