"""Segment flows between monthly snapshots, and the early-warning list with its reasons, order and pages."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone, translation

from analytics.models import SegmentFlow, SegmentMonth
from analytics.selectors.segments import segment_flows
from analytics.selectors.warnings import warning_page
from analytics.services import aggregates_refresh
from scoring.models import ScoreSnapshot, ScoringRun
from tests.analytics.helpers import TODAY
from tests.factories import CustomerFactory, CustomerScoreFactory

pytestmark = pytest.mark.django_db
MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def _snapshot(customer_id: int, month: date, segment: str, tier: str = "medium") -> None:
    ScoreSnapshot.objects.create(customer_id=customer_id, month=month, segment=segment, tier=tier, importance=50)


def _four_customers_moving() -> None:
    x, y, z, w = (CustomerFactory.create().pk for _ in range(4))
    _snapshot(x, MAY, "champions", "vip")
    _snapshot(y, MAY, "loyal")
    _snapshot(z, MAY, "at_risk")
    _snapshot(x, JUNE, "at_risk", "vip")
    _snapshot(y, JUNE, "loyal")
    _snapshot(z, JUNE, "champions")
    _snapshot(w, JUNE, "new", "low")


def test_segment_flows_count_each_customer_from_last_months_segment_to_this_months():
    _four_customers_moving()
    aggregates_refresh()
    flows = {(row.from_segment, row.to_segment): row.customers for row in SegmentFlow.objects.filter(month=JUNE)}
    # W had no snapshot in May: a newcomer to the scores.
    assert flows == {("champions", "at_risk"): 1, ("loyal", "loyal"): 1, ("at_risk", "champions"): 1, ("", "new"): 1}
    report = segment_flows()
    assert (report.month, report.became_at_risk, report.came_back) == (JUNE, 1, 1)


def test_segments_over_time_count_customers_per_segment_and_tier_each_month():
    _four_customers_moving()
    aggregates_refresh()
    june = {(row.segment, row.tier): row.customers for row in SegmentMonth.objects.filter(month=JUNE)}
    assert june == {("at_risk", "vip"): 1, ("loyal", "medium"): 1, ("champions", "medium"): 1, ("new", "low"): 1}
    assert SegmentMonth.objects.filter(month=MAY).count() == 3


def test_a_nightly_refresh_rewrites_only_the_last_two_months_of_segments():
    _four_customers_moving()
    aggregates_refresh()
    SegmentMonth.objects.filter(month=MAY).update(customers=99)
    ScoreSnapshot.objects.filter(month=JUNE, segment="new").delete()
    aggregates_refresh()
    assert SegmentMonth.objects.filter(month=MAY, segment="champions").get().customers == 1
    assert not SegmentMonth.objects.filter(month=JUNE, segment="new").exists()


def _warned(churn: float, previous: float, clv: str, last_purchase: date) -> int:
    score = CustomerScoreFactory.create(
        churn_risk=churn,
        previous_churn_risk=previous,
        predicted_clv=Decimal(clv),
        last_purchase=last_purchase,
        churn_reasons=[{"signal": "detractor", "weight": 0.1}],
    )
    return score.customer_id


def test_the_early_warning_list_puts_the_highest_value_at_stake_first_with_its_reasons():
    ScoringRun.objects.create(state="succeeded", finished_at=timezone.now(), params={"horizon_days": 90})
    silent = _warned(0.6, 0.3, "5000.00", date(2026, 1, 10))
    recent = _warned(0.5, 0.3, "8000.00", date(2026, 6, 1))
    _warned(0.32, 0.3, "9000.00", date(2026, 6, 1))  # rose by 2 points only: no warning
    aggregates_refresh()
    with translation.override("en"):
        page = warning_page()
    assert [row.warning.customer_id for row in page.rows] == [recent, silent]
    assert page.rows[1].rise_points == 30
    # 2026-01-10 to 2026-06-15 is 156 days, past the run's 90-day horizon.
    assert page.rows[1].reasons[0] == (
        "Silent well past the usual gap: 156 days since the last purchase, the shop's horizon is 90."
    )
    assert page.rows[0].reasons == ["Detractor answer"]


def test_the_early_warning_list_pages_by_keyset():
    ids = [_warned(0.6, 0.3, f"{1000 + number}.00", date(2026, 6, 1)) for number in range(3)]
    aggregates_refresh()
    first = warning_page(size=2)
    second = warning_page(cursor=first.next_cursor, size=2)
    assert [row.warning.customer_id for row in first.rows + second.rows] == list(reversed(ids))
    assert second.next_cursor is None
