"""The channels page in a real browser: the payback chart drawn from the aggregates, each channel's curve beside
its CAC."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from analytics.models import MarketingSpend
from analytics.services import aggregates_refresh
from shop.models import User
from shop.roles import Role
from tests.analytics.helpers import small_shop
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_channels_page_draws_the_payback_curve_against_the_cac(sign_in: Callable[[User], Page]):
    small_shop()
    MarketingSpend.objects.create(channel="email", month=date(2026, 1, 1), amount=Decimal("800.00"))
    aggregates_refresh()
    page = sign_in(make_user(Role.OWNER, language="en"))
    page.goto("/analytics/")
    expect(page.locator('#channels tr[data-channel="email"]')).to_contain_text("400.00")
    expect(page.get_by_test_id("payback-chart")).to_be_visible()
    labels = page.evaluate("() => window.paybackChart.data.datasets.map((set) => set.label)")
    assert labels == ["Email", "Email · CAC"]
    assert page.evaluate("() => window.paybackChart.data.datasets[1].data[0]") == 400


def test_the_owners_dashboard_shows_the_morning_figures_with_charts_and_links(sign_in: Callable[[User], Page]):
    from tests.analytics.test_effect import small_programme

    small_shop()
    small_programme()
    aggregates_refresh()
    page = sign_in(make_user(Role.OWNER, language="en"))
    expect(page.locator('[data-dashboard="owner"]')).to_be_visible()
    # Boris alone has a churn risk of 50 % or more: his predicted margin of 100 is at stake.
    expect(page.locator('[data-figure="value-at-stake"]')).to_have_text("100\u00a0₽")
    expect(page.locator('#dashboard-programmes [data-verdict="not_enough_data"]')).to_contain_text("Not enough data")
    assert page.evaluate("() => window.repeatChart.data.datasets[0].data.length") > 0
    assert page.evaluate("() => window.npsChart.config.type") == "line"
    page.locator('[data-figure="repeat-share"]').click()
    page.wait_for_url("**/analytics/cohorts/")
    page.go_back()
    page.locator("#dashboard-programmes a", has_text="Win-back").click()
    page.wait_for_url("**/analytics/programmes/")
    expect(page.get_by_test_id("effect-chart")).to_be_visible()
    assert page.evaluate("() => window.effectChart.data.labels") == ["Win-back"]
