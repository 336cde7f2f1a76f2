"""The report figures on the small shop of tests/analytics/helpers.py, each worked out by hand."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import time_machine

from analytics.models import AcquisitionCohort, CohortMonth, MarketingSpend
from analytics.selectors.channels import channel_rows, margin_curve
from analytics.selectors.cohorts import cohort_rows, repeat_revenue_share
from analytics.services import aggregates_refresh
from tests.analytics.helpers import TODAY, small_shop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


HALF = Decimal("0.5")


def _refreshed() -> None:
    small_shop()
    aggregates_refresh()


def test_the_refresh_writes_cohorts_by_channel_campaign_and_month_of_the_first_order():
    _refreshed()
    rows = {
        (row.channel, row.campaign, row.month): (
            row.customers,
            row.repeat_customers,
            row.scored_customers,
            row.active_customers,
            row.predicted_clv,
        )
        for row in AcquisitionCohort.objects.all()
    }
    # Boris's cancelled order does not make him a repeat customer, Vera's second order in February does; only Anna
    # is below 50 % churn risk.
    assert rows == {
        ("email", "spring", date(2026, 1, 1)): (2, 1, 2, 1, Decimal("1000.00")),
        ("social", "", date(2026, 2, 1)): (1, 1, 0, 0, Decimal("0.00")),
    }


def test_the_refresh_counts_each_buyer_once_a_month_and_only_delivered_revenue():
    _refreshed()
    rows = {(row.channel, row.cohort, row.month_offset): (row.buyers, row.revenue) for row in CohortMonth.objects.all()}
    assert rows == {
        ("email", date(2026, 1, 1), 0): (2, Decimal("1400.00")),
        ("email", date(2026, 1, 1), 1): (1, Decimal("600.00")),
        ("social", date(2026, 2, 1), 0): (1, Decimal("3000.00")),
    }


def test_the_refresh_run_twice_gives_the_same_figures():
    _refreshed()
    aggregates_refresh()
    assert AcquisitionCohort.objects.count() == 2
    assert CohortMonth.objects.count() == 3


def test_ltv_per_channel_is_delivered_margin_per_acquired_customer():
    _refreshed()
    rows = {row.channel: row for row in channel_rows(margin=HALF, today=TODAY.date())}
    email, social = rows["email"], rows["social"]
    # Email: (1,000 + 600 + 400) × 50 % = 1,000 over 2 customers; predicted (900 + 100) / 2 scored.
    assert (email.channel, email.customers, email.realised_ltv) == ("email", 2, Decimal("500.00"))
    assert email.predicted_per_customer == Decimal("500.00")
    assert (email.repeat_rate, email.active_share) == (50.0, 50.0)
    # Social: 3,000 × 50 % for one customer, nobody scored.
    assert (social.channel, social.realised_ltv, social.predicted_per_customer) == ("social", Decimal("1500.00"), None)
    assert social.active_share is None


def test_cac_payback_is_the_first_month_whose_cumulative_margin_covers_the_cac():
    _refreshed()
    MarketingSpend.objects.create(channel="email", month=date(2026, 1, 1), amount=Decimal("800.00"))
    MarketingSpend.objects.create(channel="social", month=date(2026, 2, 1), amount=Decimal("3000.00"))
    rows = {row.channel: row for row in channel_rows(margin=HALF, today=TODAY.date())}
    email, social = rows["email"], rows["social"]
    # Email: CAC 800 / 2 = 400; margin per customer 1,400 × 50 % / 2 = 350 in month 0, + 600 × 50 % / 2 → 500 in
    # month 1: paid back one month after the first order.
    assert email.cac == Decimal("400.00")
    assert email.curve[:3] == [Decimal("350.00"), Decimal("500.00"), Decimal("500.00")]
    assert email.payback_months == 1
    # Social: CAC 3,000, and 1,500 per customer is all Vera brought: not paid back yet.
    assert social.cac == Decimal("3000.00")
    assert social.payback_months is None


def test_the_margin_curve_counts_at_month_k_only_cohorts_old_enough_to_have_had_it():
    cohorts = {date(2026, 4, 1): 10, date(2026, 6, 1): 10}
    revenue = {date(2026, 4, 1): {0: Decimal("1000"), 1: Decimal("1000")}, date(2026, 6, 1): {0: Decimal("3000")}}
    curve = margin_curve(cohorts, revenue, margin=HALF, today=date(2026, 6, 15))
    # Month 0: (1,000 + 3,000) × 50 % / 20; months 1 and 2: only April's cohort, (1,000 + 1,000) × 50 % / 10.
    assert curve == [Decimal("100.00"), Decimal("100.00"), Decimal("100.00")]


def test_a_channel_without_spend_has_no_cac_or_payback():
    _refreshed()
    email = {row.channel: row for row in channel_rows(margin=HALF, today=TODAY.date())}["email"]
    assert (email.spend, email.cac, email.payback_months) == (Decimal("0"), None, None)


def test_cohort_retention_is_the_share_of_the_cohort_who_bought_in_each_month():
    _refreshed()
    january, february = cohort_rows(margin=HALF, today=TODAY.date())
    # January's two customers both bought in January, Anna alone in February; five months have passed since.
    assert (january.month, january.customers) == (date(2026, 1, 1), 2)
    assert january.retention == [100.0, 50.0, 0.0, 0.0, 0.0, 0.0]
    assert january.cumulative_margin[:2] == [Decimal("350.00"), Decimal("500.00")]
    # Vera bought twice in February: one buyer of one.
    assert (february.month, february.retention) == (date(2026, 2, 1), [100.0, 0.0, 0.0, 0.0, 0.0])
    assert february.cumulative_margin[-1] == Decimal("1500.00")


def test_repeat_revenue_share_counts_customers_whose_first_order_was_in_an_earlier_month():
    _refreshed()
    january, february = repeat_revenue_share()
    assert (january.month, january.revenue, january.share) == (date(2026, 1, 1), Decimal("1400.00"), 0.0)
    # February: Anna's 600 of 600 + 3,000.
    assert (february.revenue, february.repeat_revenue, february.share) == (
        Decimal("3600.00"),
        Decimal("600.00"),
        16.7,
    )
