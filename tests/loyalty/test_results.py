"""A rule's page: issued, redeemed, cost and budget left, and its eligible customers split into treated and control."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from loyalty.engine.evaluate import in_control_group
from loyalty.models import Purpose
from loyalty.results import rule_groups, rule_results
from loyalty.services import credit_accrue, credit_expire_due
from tests.factories import CouponFactory, CustomerFactory, CustomerScoreFactory, LoyaltyRuleFactory

pytestmark = pytest.mark.django_db
WIN_BACK = {"value_kind": "percent", "curve": "steps", "steps": [["0.5", "10"]], "risk_threshold": "0.5"}


def test_the_control_group_in_sql_is_the_engines_hash() -> None:
    rule = LoyaltyRuleFactory.create(kind="win_back", params=WIN_BACK, control_share=Decimal("0.3"))
    scores = [CustomerScoreFactory.create(churn_risk=0.8) for _ in range(60)]
    expected = sum(in_control_group(rule.pk, score.customer_id, Decimal("0.3")) for score in scores)
    groups = rule_groups(rule)
    assert (groups.eligible, groups.control, groups.treated) == (60, expected, 60 - expected)
    assert 0 < expected < 60


def test_only_customers_the_rule_admits_are_counted() -> None:
    rule = LoyaltyRuleFactory.create(kind="win_back", params=WIN_BACK, control_share=Decimal("0"))
    CustomerScoreFactory.create(churn_risk=0.8)
    CustomerScoreFactory.create(churn_risk=0.2)
    tiers = LoyaltyRuleFactory.create(kind="cumulative", params={"basis": "orders", "tiers": [[3, "5"]]})
    CustomerScoreFactory.create(transactions=3)
    assert (rule_groups(rule).eligible, rule_groups(rule).control) == (1, 0)
    assert rule_groups(tiers).eligible == 1


def test_results_count_credit_issued_spent_expired_and_the_budget_left() -> None:
    rule = LoyaltyRuleFactory.create(budget_cap=Decimal("1000.00"))
    rule.budget_spent = Decimal("300.00")
    rule.save()
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("200.00"), purpose=Purpose.STORE_CREDIT, rule=rule,
                      expires_at=timezone.now() - timedelta(seconds=1))  # fmt: skip
        credit_accrue(customer_id=customer.pk, amount=Decimal("100.00"), purpose=Purpose.STORE_CREDIT, rule=rule)
    credit_expire_due()
    CouponFactory.create(rule=rule)
    results = rule_results(rule)
    assert results.credit_issued == Decimal("300.00")
    assert results.credit_expired == Decimal("200.00")
    assert results.credit_open == Decimal("100.00")
    assert results.credit_spent == Decimal("0.00")
    assert (results.coupons_issued, results.coupons_used) == (1, 0)
    assert (results.cost, results.budget_left) == (Decimal("300.00"), Decimal("700.00"))
    assert results.chart["credit"][-1] == "300.00"


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 200), ("Operator", 403)])
def test_the_rule_page_shows_results_and_groups_to_owners_and_managers(
    client_for: Callable[[str | None], Client], role: str, status: int
) -> None:
    rule = LoyaltyRuleFactory.create(kind="win_back", params=WIN_BACK, control_share=Decimal("0.5"))
    for _ in range(10):
        CustomerScoreFactory.create(churn_risk=0.9)
    response = client_for(role).get(reverse("loyalty:rule", args=[rule.pk]))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        groups = rule_groups(rule)
        assert f'data-testid="eligible">{groups.eligible}<' in page
        assert f'data-testid="held-out">{groups.control}<' in page
        assert 'id="results-data"' in page
