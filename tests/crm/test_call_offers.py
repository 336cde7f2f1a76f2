"""The rules the operator acts on: which tiers get priority delivery, from which churn risk a win-back discount is
offered, and the one recommended action for each kind of caller. Pure functions of a score, so each rule is pinned
on its own (an unsaved score is enough: nothing here reads the database)."""

import pytest
from django.utils import translation

from crm.call.offers import PRIORITY_DELIVERY, WIN_BACK, Offer, offers_for, recommended_action
from scoring.models import CustomerScore, Tier


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def score(tier: str = Tier.MEDIUM, churn_risk: float | None = 0.1, importance: int = 50) -> CustomerScore:
    return CustomerScore(tier=tier, churn_risk=churn_risk, importance=importance, recency_days=140)


def codes(offers: list[Offer]) -> list[str]:
    return [offer.code for offer in offers]


@pytest.mark.parametrize("tier", [Tier.VIP, Tier.HIGH])
def test_vip_and_high_customers_are_offered_priority_delivery(tier):
    assert codes(offers_for(score(tier=tier))) == [PRIORITY_DELIVERY]


@pytest.mark.parametrize("tier", [Tier.MEDIUM, Tier.LOW])
def test_medium_and_low_customers_are_not_offered_priority_delivery(tier):
    assert offers_for(score(tier=tier)) == []


def test_the_priority_delivery_offer_names_the_tier_and_the_importance():
    (offer,) = offers_for(score(tier=Tier.HIGH, importance=87))
    assert (offer.title, offer.reason) == ("Priority delivery", "High customer, importance 87")


@pytest.mark.parametrize("tier", [Tier.MEDIUM, Tier.HIGH])
def test_a_churn_risk_of_one_half_is_enough_for_a_win_back_discount(tier):
    assert WIN_BACK in codes(offers_for(score(tier=tier, churn_risk=0.5)))


def test_a_churn_risk_just_under_one_half_gets_no_win_back_discount():
    assert offers_for(score(tier=Tier.MEDIUM, churn_risk=0.49)) == []


def test_a_low_customer_at_risk_gets_no_win_back_discount():
    assert offers_for(score(tier=Tier.LOW, churn_risk=0.95)) == []


def test_a_customer_whose_risk_is_unknown_gets_no_win_back_discount():
    assert offers_for(score(tier=Tier.MEDIUM, churn_risk=None)) == []


def test_the_win_back_offer_names_the_churn_risk_and_the_days_since_the_last_purchase():
    (offer,) = offers_for(score(tier=Tier.MEDIUM, churn_risk=0.62))
    assert (offer.title, offer.reason) == ("Win-back discount", "Churn risk 62%, last purchase 140 days ago")


def test_a_valuable_customer_at_risk_is_offered_priority_delivery_then_the_win_back_discount():
    assert codes(offers_for(score(tier=Tier.VIP, churn_risk=0.7))) == [PRIORITY_DELIVERY, WIN_BACK]


def test_a_customer_without_a_score_gets_no_offers():
    assert offers_for(None) == []


def test_an_open_complaint_comes_before_any_offer():
    offers = offers_for(score(tier=Tier.VIP, churn_risk=0.7))
    action = recommended_action(has_complaints=True, offers=offers, orders_count=5)
    assert action == "Apologise for the open complaint first, then help."


def test_a_customer_slipping_away_is_offered_the_win_back_discount_before_priority_delivery():
    offers = offers_for(score(tier=Tier.VIP, churn_risk=0.7))
    action = recommended_action(has_complaints=False, offers=offers, orders_count=5)
    assert action == "A valued customer who has not bought for a while: offer the win-back discount."


def test_an_important_customer_not_at_risk_is_offered_priority_delivery():
    offers = offers_for(score(tier=Tier.HIGH, churn_risk=0.1))
    action = recommended_action(has_complaints=False, offers=offers, orders_count=5)
    assert action == "An important customer: offer priority delivery with the next order."


def test_a_caller_without_orders_is_helped_with_the_first_one():
    action = recommended_action(has_complaints=False, offers=[], orders_count=0)
    assert action == "No orders yet: help with the first one."


def test_any_other_caller_is_helped_and_the_call_logged():
    action = recommended_action(has_complaints=False, offers=offers_for(score()), orders_count=3)
    assert action == "Help with the question and log the call."
