"""The rule preview is one SQL aggregate over the score table: it must pick the customers the engine picks, hold
out the control group the quote holds out, and price them as the engine would."""

import random
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from loyalty.engine.evaluate import Facts, cumulative_percent, in_control_group, win_back_qualifies, win_back_value
from loyalty.engine.params import CumulativeParams, WinBackParams
from loyalty.preview import control_group_sql, rule_preview
from loyalty.rulebook import engine_rule
from scoring.models import CustomerScore
from tests.factories import CustomerFactory, CustomerScoreFactory, LoyaltyRuleFactory

pytestmark = pytest.mark.django_db

WIN_BACK_LINEAR = {
    "value_kind": "percent", "curve": "linear", "risk_from": "0.4", "risk_to": "0.9", "value_from": "5",
    "value_to": "20", "risk_threshold": "0.5", "days_threshold": 200, "clv_reference": "3000", "scale_min": "0.5",
    "scale_max": "1.5", "cap": "25",
}  # fmt: skip


def random_scores(count: int, seed: int = 14) -> list[CustomerScore]:
    rng = random.Random(seed)
    return [
        CustomerScoreFactory.create(
            churn_risk=None if rng.random() < 0.05 else round(rng.random(), 4),
            recency_days=rng.randint(1, 700),
            transactions=rng.randint(1, 15),
            total_value=Decimal(rng.randint(500, 90000)),
            average_value=Decimal(rng.randint(300, 9000)) + Decimal("0.45"),
            predicted_clv=Decimal(rng.randint(0, 9000)),
            expected_30=rng.random(),
            expected_90=rng.random() * 2,
            segment=rng.choice(["champions", "at_risk", "lost"]),
            tier=rng.choice(["vip", "high", "medium", "low"]),
        )
        for _ in range(count)
    ]


def engine_reference(rule: Any) -> tuple[int, int, Decimal]:
    """What the engine says, customer by customer: (qualifying, held out, 30-day cost)."""
    spec = engine_rule(rule)
    qualifying = held_out = 0
    cost = Decimal("0")
    for score in CustomerScore.objects.all():
        facts = Facts(
            customer_id=score.customer_id, delivered_orders=score.transactions, lifetime_spend=score.total_value,
            churn_risk=score.churn_risk, days_since_last_order=score.recency_days, segment=score.segment,
            tier=score.tier, predicted_clv=score.predicted_clv,
        )  # fmt: skip
        if spec.conditions.tiers and score.tier not in spec.conditions.tiers:
            continue
        p = spec.params
        if isinstance(p, CumulativeParams):
            reached = cumulative_percent(p, facts)
            per_order = None if reached is None else score.average_value * reached[1] / 100
        else:
            assert isinstance(p, WinBackParams)
            value = win_back_value(p, facts.churn_risk, facts.predicted_clv)
            per_order = score.average_value * value / 100 if win_back_qualifies(p, facts) else None
        if per_order is None:
            continue
        qualifying += 1
        if in_control_group(rule.pk, score.customer_id, spec.control_share):
            held_out += 1
        else:
            cost += per_order * Decimal(repr(score.expected_30))
    return qualifying, held_out, cost.quantize(Decimal("0.01"))


def test_the_sql_control_group_holds_out_the_customers_the_engine_holds_out():
    customers = CustomerFactory.create_batch(400)
    share = Decimal("0.3")
    predicate, params = control_group_sql(7, share, "c.id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.id FROM customers_customer c WHERE {predicate}", params)  # noqa: S608
        in_sql = {row[0] for row in cursor.fetchall()}
    in_python = {c.pk for c in customers if in_control_group(7, c.pk, share)}
    assert in_sql == in_python
    assert 80 < len(in_python) < 160


def test_a_rule_without_a_control_group_holds_out_nobody():
    assert control_group_sql(7, Decimal("0"), "c.id") == ("FALSE", [])


def test_the_preview_of_a_win_back_curve_agrees_with_the_engine_customer_by_customer():
    random_scores(150)
    rule = LoyaltyRuleFactory.create(kind="win_back", params=WIN_BACK_LINEAR, control_share=Decimal("0.25"))
    preview = rule_preview(rule)
    qualifying, held_out, cost = engine_reference(rule)
    assert (preview.qualifying, preview.control) == (qualifying, held_out)
    assert qualifying > held_out > 0
    assert abs(preview.estimated_cost - cost) <= Decimal("0.01")


def test_the_preview_of_cumulative_tiers_agrees_with_the_engine_customer_by_customer():
    random_scores(120, seed=3)
    rule = LoyaltyRuleFactory.create(
        kind="cumulative", params={"basis": "orders", "tiers": [[3, "3"], [6, "5"], [10, "10"]]}, tiers=["vip", "high"]
    )
    preview = rule_preview(rule)
    qualifying, held_out, cost = engine_reference(rule)
    assert (preview.qualifying, preview.control, held_out) == (qualifying, 0, 0)
    assert abs(preview.estimated_cost - cost) <= Decimal("0.01")


def test_a_win_back_step_at_exactly_the_threshold_qualifies():
    CustomerScoreFactory.create(churn_risk=0.6, expected_30=1.0, average_value=Decimal("1000"))
    CustomerScoreFactory.create(churn_risk=0.5999, expected_30=1.0, average_value=Decimal("1000"))
    rule = LoyaltyRuleFactory.create(
        kind="win_back",
        params={"value_kind": "percent", "curve": "steps", "steps": [["0.6", "10"]], "risk_threshold": "0.6"},
    )
    preview = rule_preview(rule)
    assert (preview.qualifying, preview.estimated_cost) == (1, Decimal("100.00"))


def test_the_preview_prices_the_next_90_days_from_the_expected_orders_in_them():
    CustomerScoreFactory.create(transactions=3, expected_30=0.5, expected_90=1.25, average_value=Decimal("2000"))
    rule = LoyaltyRuleFactory.create(kind="cumulative", params={"basis": "orders", "tiers": [[2, "10"]]})
    preview = rule_preview(rule)
    assert (preview.estimated_cost, preview.estimated_cost_90) == (Decimal("100.00"), Decimal("250.00"))


def test_a_fixed_credit_rule_costs_its_sum_per_expected_order():
    CustomerScoreFactory.create(expected_30=0.5)
    rule = LoyaltyRuleFactory.create(
        kind="store_credit", params={"accrual_kind": "fixed", "value": "300", "expires_days": 90}
    )
    assert rule_preview(rule).estimated_cost == Decimal("150.00")


def test_a_merged_duplicate_is_not_counted():
    survivor = CustomerScoreFactory.create(transactions=3).customer
    duplicate = CustomerScoreFactory.create(transactions=3).customer
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into"])
    rule = LoyaltyRuleFactory.create(kind="cumulative", params={"basis": "orders", "tiers": [[2, "3"]]})
    assert rule_preview(rule).qualifying == 1


def test_the_preview_narrows_by_channel_segment_and_churn_range():
    CustomerScoreFactory.create(customer=CustomerFactory.create(channel="email"), segment="at_risk", churn_risk=0.7)
    CustomerScoreFactory.create(customer=CustomerFactory.create(channel="email"), segment="loyal", churn_risk=0.7)
    CustomerScoreFactory.create(customer=CustomerFactory.create(channel="email"), segment="at_risk", churn_risk=0.2)
    CustomerScoreFactory.create(customer=CustomerFactory.create(channel="direct"), segment="at_risk", churn_risk=0.7)
    rule = LoyaltyRuleFactory.create(
        kind="vip_perk", params={"perk": "free_delivery"}, channels=["email"], segments=["at_risk"], churn_min=0.5
    )
    preview = rule_preview(rule)
    assert (preview.qualifying, dict(preview.by_segment)) == (1, {"at_risk": 1})
