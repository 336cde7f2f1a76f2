"""Churn risk: 1 − P(alive) raised by active churn signals and recent returns, each with its reason."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation

from orders.models import Order, OrderStatus
from orders.services import order_change_status
from scoring.models import ChurnSignal, CustomerScore
from scoring.services import churn_signal_clear, churn_signal_raise, score_customers
from shop.models import ShopSettings
from tests.scoring.runs import buy, run_now, score_of, seed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(datetime(2026, 11, 1, 12, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def english_shop() -> None:
    """Reasons are stored in the shop's language."""
    shop = ShopSettings.load()
    shop.language = "en"
    shop.save()


def lines(score: CustomerScore) -> list[str]:
    with translation.override("en"):
        return score.churn_reason_lines


@pytest.fixture
def scored_base(english_shop) -> CustomerScore:
    """A fitted demo shop and a customer whose churn risk leaves room to rise."""
    seed_shop()
    run_now()
    score = (
        CustomerScore.objects.filter(churn_risk__lt=0.5, churn_reasons=[], transactions__gte=3)
        .order_by("customer_id")
        .first()
    )
    assert score is not None and score.p_alive is not None
    return score


def test_an_active_signal_raises_churn_risk_by_its_weight_and_says_why(scored_base):
    customer_id, before = scored_base.customer_id, scored_base.churn_risk
    churn_signal_raise(
        customer_id=customer_id, kind=ChurnSignal.Kind.COMPLAINT, source="t:1", detail="late delivery", weight=0.3
    )
    run_now()
    after = score_of(customer_id)
    assert after.churn_risk == pytest.approx(before + 0.3)
    assert after.churn_reasons == [{"signal": "complaint", "detail": "late delivery", "weight": 0.3}]
    assert lines(after) == ["Open complaint: late delivery"]


def test_the_single_update_applies_a_signal_as_the_full_run_does(scored_base):
    customer_id = scored_base.customer_id
    churn_signal_raise(customer_id=customer_id, kind=ChurnSignal.Kind.DETRACTOR, source="t:2", weight=0.2)
    score_customers(customer_ids=[customer_id])
    single = score_of(customer_id)
    run_now()
    full = score_of(customer_id)
    assert (single.churn_risk, single.churn_reasons) == (pytest.approx(full.churn_risk), full.churn_reasons)
    assert lines(single) == ["Detractor answer"]


def test_clearing_a_signal_lowers_churn_risk_again(scored_base):
    customer_id, before = scored_base.customer_id, scored_base.churn_risk
    churn_signal_raise(customer_id=customer_id, kind=ChurnSignal.Kind.COMPLAINT, source="t:3", weight=0.3)
    score_customers(customer_ids=[customer_id])
    assert score_of(customer_id).churn_risk == pytest.approx(before + 0.3)
    churn_signal_clear(source="t:3")
    score_customers(customer_ids=[customer_id])
    cleared = score_of(customer_id)
    assert cleared.churn_risk == pytest.approx(before) and cleared.churn_reasons == []


def test_signals_never_push_churn_risk_above_one(scored_base):
    customer_id = scored_base.customer_id
    for n, kind in enumerate(ChurnSignal.Kind.values):
        churn_signal_raise(customer_id=customer_id, kind=kind, source=f"t:{n}", weight=0.9)
    run_now()
    score = score_of(customer_id)
    assert score.churn_risk == 1.0 and len(score.churn_reasons) == 3


def test_a_recent_return_raises_churn_risk_with_its_reason(scored_base):
    customer_id, before = scored_base.customer_id, scored_base.churn_risk
    order = Order.objects.filter(customer_id=customer_id, status=OrderStatus.DELIVERED).latest("placed_at")
    order_change_status(order=order, status=OrderStatus.RETURNED)
    run_now()
    full = score_of(customer_id)
    score_customers(customer_ids=[customer_id])
    single = score_of(customer_id)
    assert full.churn_reasons == single.churn_reasons == [{"returns": 1, "weight": 0.1}]
    assert lines(full) == ["1 return in the last 90 days"]
    assert full.churn_risk == pytest.approx(single.churn_risk)
    assert full.churn_risk > before


def test_without_the_model_a_signal_still_gives_a_churn_risk_and_its_reason(english_shop):
    start = datetime(2026, 1, 5, tzinfo=UTC)
    for n in range(12):
        buy(f"+7999000{n:04d}", f"A-{n}", start + timedelta(days=n))
    first, second = Order.objects.order_by("pk").values_list("customer_id", flat=True)[:2]
    churn_signal_raise(customer_id=first, kind=ChurnSignal.Kind.COMPLAINT, source="t:9", detail="rude", weight=0.4)
    run = run_now()
    assert run.method == "rf"
    flagged, quiet = score_of(first), score_of(second)
    assert (flagged.p_alive, flagged.churn_risk, lines(flagged)) == (None, 0.4, ["Open complaint: rude"])
    assert quiet.churn_risk is None
    with translation.override("en"):
        assert "churn risk 40%" in flagged.explanation and "no model yet" in flagged.explanation


def test_churn_reasons_are_put_into_words_in_the_readers_language(scored_base):
    customer_id = scored_base.customer_id
    churn_signal_raise(
        customer_id=customer_id, kind=ChurnSignal.Kind.COMPLAINT, source="t:4", detail="late delivery", weight=0.3
    )
    score_customers(customer_ids=[customer_id])
    score = score_of(customer_id)
    assert lines(score) == ["Open complaint: late delivery"]
    with translation.override("ru"):
        assert score.churn_reason_lines == ["Открытая жалоба: late delivery"]
