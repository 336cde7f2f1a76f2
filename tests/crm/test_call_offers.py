"""What the operator may offer a caller comes from the owner's active loyalty rules, with its value: VIP perks by
tier, the win-back offer from the rule's churn-risk threshold along its curve, a tier discount by delivered orders,
the credit balance and the coupons the customer holds; and the one recommended action for each kind of caller."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone, translation

from crm.call.card import caller_card
from crm.call.offers import (
    COUPON,
    CREDIT,
    FREE_DELIVERY,
    PRIORITY_DELIVERY,
    TIER_DISCOUNT,
    WIN_BACK,
    Offer,
    recommended_action,
)
from loyalty.engine.evaluate import in_control_group
from loyalty.models import LoyaltyRule
from loyalty.services import credit_accrue
from scoring.models import CustomerScore
from tests.factories import CouponFactory, CustomerFactory, CustomerScoreFactory, LoyaltyRuleFactory, OrderFactory

pytestmark = pytest.mark.django_db

WIN_BACK_STEPS = {
    "value_kind": "percent", "curve": "steps", "steps": [["0.5", "10"], ["0.8", "20"]], "risk_threshold": "0.5",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def scored(tier: str = "medium", churn_risk: float | None = 0.1, **fields: Any) -> CustomerScore:
    return CustomerScoreFactory.create(tier=tier, churn_risk=churn_risk, recency_days=140, **fields)


def offers(score: CustomerScore) -> list[Offer]:
    """What the caller card offers: the card's one query and the rulebook, as the lookup and the console read it."""
    return caller_card(score.customer, with_history=False).offers


def codes(found: list[Offer]) -> list[str]:
    return [offer.code for offer in found]


def priority_delivery_rule(**fields: Any) -> None:
    LoyaltyRuleFactory.create(
        name="VIP delivery", kind="vip_perk", params={"perk": "priority_delivery"}, tiers=["vip", "high"], **fields
    )


def win_back_rule(**fields: Any) -> None:
    fields.setdefault("params", WIN_BACK_STEPS)
    LoyaltyRuleFactory.create(name="Win back", kind="win_back", **fields)


@pytest.mark.parametrize("tier", ["vip", "high"])
def test_the_tiers_of_a_priority_delivery_rule_are_offered_priority_delivery(tier):
    priority_delivery_rule()
    assert codes(offers(scored(tier=tier))) == [PRIORITY_DELIVERY]


@pytest.mark.parametrize("tier", ["medium", "low"])
def test_tiers_outside_the_perk_rule_are_not_offered_priority_delivery(tier):
    priority_delivery_rule()
    assert offers(scored(tier=tier)) == []


def test_without_a_perk_rule_nobody_is_offered_priority_delivery():
    assert offers(scored(tier="vip")) == []


def test_a_switched_off_rule_offers_nothing():
    priority_delivery_rule(is_active=False)
    assert offers(scored(tier="vip")) == []


def test_the_priority_delivery_offer_names_the_tier_and_its_rule():
    priority_delivery_rule()
    (offer,) = offers(scored(tier="high"))
    assert (offer.title, offer.value, offer.reason, offer.rule) == (
        "Priority delivery", "", "Perk of the high tier", "VIP delivery",
    )  # fmt: skip


def test_a_free_delivery_perk_is_offered_as_free_delivery():
    LoyaltyRuleFactory.create(kind="vip_perk", params={"perk": "free_delivery"}, tiers=["vip"])
    assert codes(offers(scored(tier="vip"))) == [FREE_DELIVERY]


def test_a_churn_risk_at_the_rules_threshold_is_offered_the_first_step_of_its_curve():
    win_back_rule()
    (offer,) = offers(scored(churn_risk=0.5))
    assert (offer.code, offer.value) == (WIN_BACK, "10%")


def test_a_churn_risk_just_under_the_rules_threshold_gets_no_win_back_offer():
    win_back_rule()
    assert offers(scored(churn_risk=0.49)) == []


def test_the_win_back_offer_grows_with_churn_risk_along_the_owners_steps():
    win_back_rule()
    (offer,) = offers(scored(churn_risk=0.85))
    assert offer.value == "20%"


def test_the_threshold_is_the_owners_not_a_fixed_one():
    win_back_rule(params={**WIN_BACK_STEPS, "risk_threshold": "0.7"})
    assert offers(scored(churn_risk=0.6)) == []


def test_a_linear_win_back_curve_gives_the_value_between_its_ends():
    win_back_rule(
        params={"value_kind": "percent", "curve": "linear", "risk_from": "0.5", "risk_to": "0.9",
                "value_from": "5", "value_to": "25", "risk_threshold": "0.5"},
    )  # fmt: skip
    (offer,) = offers(scored(churn_risk=0.6))
    assert offer.value == "10%"


def test_a_fixed_win_back_offer_is_worth_its_sum_of_money():
    win_back_rule(params={"value_kind": "fixed", "curve": "steps", "steps": [["0.5", "500"]], "risk_threshold": "0.5"})
    (offer,) = offers(scored(churn_risk=0.7))
    assert offer.value == "500\u00a0₽"


def test_the_win_back_offer_names_the_churn_risk_and_the_days_since_the_last_order():
    win_back_rule()
    customer = CustomerFactory.create()
    OrderFactory.create(customer=customer, status="delivered", placed_at=_days_ago(140))
    (offer,) = offers(scored(churn_risk=0.62, customer=customer))
    assert (offer.title, offer.reason) == (
        "Win-back discount", "Win-back offer at churn risk 62%, 140 days since the last order",
    )  # fmt: skip


def test_a_win_back_rule_for_chosen_tiers_leaves_a_low_customer_at_risk_out():
    win_back_rule(tiers=["vip", "high", "medium"])
    assert offers(scored(tier="low", churn_risk=0.95)) == []


def test_a_customer_whose_risk_is_unknown_gets_no_win_back_offer():
    win_back_rule()
    assert offers(scored(churn_risk=None)) == []


def test_a_customer_in_the_rules_control_group_is_not_offered_it():
    win_back_rule(control_share=Decimal("0.5"))
    rule_id = _only_rule_id()
    inside = next(
        s for s in (scored(churn_risk=0.9) for _ in range(40)) if in_control_group(rule_id, s.pk, Decimal("0.5"))
    )
    assert offers(inside) == []


def test_a_rule_whose_budget_is_spent_offers_nothing():
    win_back_rule(budget_cap=Decimal("100.00"))
    _spend_budget()
    assert offers(scored(churn_risk=0.9)) == []


def test_a_customer_at_a_cumulative_tier_is_offered_its_discount():
    LoyaltyRuleFactory.create(kind="cumulative", params={"basis": "orders", "tiers": [[2, "3"], [5, "5"]]})
    customer = CustomerFactory.create()
    OrderFactory.create_batch(5, customer=customer, status="delivered")
    (offer,) = offers(scored(customer=customer))
    assert (offer.code, offer.value, offer.reason) == (TIER_DISCOUNT, "5%", "5% off: 5 or more delivered orders")


def test_the_credit_balance_is_offered_with_its_amount():
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("250.00"), purpose="owner")
    (offer,) = offers(scored(customer=customer))
    assert (offer.code, offer.value) == (CREDIT, "250\u00a0₽")


def test_an_active_coupon_is_offered_with_its_code_and_value():
    customer = CustomerFactory.create()
    CouponFactory.create(customer=customer, code="CBACK300")
    (offer,) = offers(scored(customer=customer))
    assert (offer.code, offer.title, offer.value) == (COUPON, "Coupon CBACK300", "300\u00a0₽")


def test_a_valuable_customer_at_risk_is_offered_priority_delivery_then_the_win_back_offer():
    priority_delivery_rule()
    win_back_rule()
    assert codes(offers(scored(tier="vip", churn_risk=0.7))) == [PRIORITY_DELIVERY, WIN_BACK]


def test_a_customer_without_a_score_gets_only_what_needs_no_score():
    win_back_rule()
    customer = CustomerFactory.create()
    CouponFactory.create(customer=customer)
    assert codes(caller_card(customer, with_history=False).offers) == [COUPON]


def test_an_open_complaint_comes_before_any_offer():
    priority_delivery_rule()
    win_back_rule()
    found = offers(scored(tier="vip", churn_risk=0.7))
    action = recommended_action(has_complaints=True, offers=found, orders_count=5)
    assert action == "Apologise for the open complaint first, then help."


def test_a_customer_slipping_away_is_offered_the_win_back_discount_with_its_value_before_priority_delivery():
    priority_delivery_rule()
    win_back_rule()
    found = offers(scored(tier="vip", churn_risk=0.7))
    action = recommended_action(has_complaints=False, offers=found, orders_count=5)
    assert action == "A valued customer who has not bought for a while: offer the win-back discount of 10%."


def test_an_important_customer_not_at_risk_is_offered_priority_delivery():
    priority_delivery_rule()
    win_back_rule()
    found = offers(scored(tier="high", churn_risk=0.1))
    action = recommended_action(has_complaints=False, offers=found, orders_count=5)
    assert action == "An important customer: offer priority delivery with the next order."


def test_a_customer_with_credit_is_reminded_of_it():
    found = [Offer(code=CREDIT, title="Credit balance", reason="", value="250 ₽")]
    action = recommended_action(has_complaints=False, offers=found, orders_count=2)
    assert action == "Remind the customer of the 250 ₽ credit they can spend on the next order."


def test_a_customer_with_a_coupon_is_reminded_of_it():
    found = [Offer(code=COUPON, title="Coupon CBACK300", reason="", value="300 ₽", coupon="CBACK300")]
    action = recommended_action(has_complaints=False, offers=found, orders_count=2)
    assert action == "Remind the customer of coupon CBACK300: 300 ₽ off."


def test_a_customer_at_a_cumulative_tier_hears_of_the_discount():
    found = [Offer(code=TIER_DISCOUNT, title="Loyalty tier discount", reason="", value="5%")]
    action = recommended_action(has_complaints=False, offers=found, orders_count=5)
    assert action == "Mention the loyalty discount of 5% on the next order."


def test_a_caller_without_orders_is_helped_with_the_first_one():
    action = recommended_action(has_complaints=False, offers=[], orders_count=0)
    assert action == "No orders yet: help with the first one."


def test_any_other_caller_is_helped_and_the_call_logged():
    action = recommended_action(has_complaints=False, offers=offers(scored()), orders_count=3)
    assert action == "Help with the question and log the call."


def _days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days, hours=1)


def _only_rule_id() -> int:
    return LoyaltyRule.objects.get().pk


def _spend_budget() -> None:
    LoyaltyRule.objects.update(budget_spent=Decimal("100.00"))
