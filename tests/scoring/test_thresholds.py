"""The owner's tier thresholds decide the tiers of full runs and of single updates."""

from datetime import UTC, datetime

import pytest
import time_machine

from scoring.models import CustomerScore, ScoringSettings
from scoring.services import score_customers
from tests.scoring.runs import run_now, score_of, seed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(datetime(2026, 11, 1, 12, tzinfo=UTC), tick=False):
        yield


def _owner_sets(vip: int, high: int, medium: int) -> None:
    ScoringSettings.objects.update_or_create(pk=1, defaults={"vip_from": vip, "high_from": high, "medium_from": medium})


def _expected_tier(importance: int, vip: int, high: int, medium: int) -> str:
    return "vip" if importance >= vip else "high" if importance >= high else "medium" if importance >= medium else "low"


def test_a_full_run_tiers_by_the_owners_thresholds():
    seed_shop()
    _owner_sets(70, 40, 10)
    run_now()
    pairs = set(CustomerScore.objects.values_list("importance", "tier"))
    assert all(tier == _expected_tier(importance, 70, 40, 10) for importance, tier in pairs)
    assert {tier for _importance, tier in pairs} == {"vip", "high", "medium", "low"}


def test_a_single_update_tiers_by_the_owners_thresholds():
    seed_shop()
    run_now()
    score = CustomerScore.objects.filter(importance__gte=60, importance__lt=80).first()
    assert score is not None and score.tier == "medium"
    _owner_sets(90, 55, 20)
    score_customers(customer_ids=[score.customer_id])
    assert score_of(score.customer_id).tier == "high"
