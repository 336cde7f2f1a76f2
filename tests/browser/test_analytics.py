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
