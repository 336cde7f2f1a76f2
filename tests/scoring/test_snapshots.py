"""Monthly snapshots: one row per customer and month, written by the month's runs; "rising" against last month."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.utils import translation

from scoring.models import CustomerScore, ScoreSnapshot
from scoring.services import score_customers
from tests.scoring.runs import run_now, score_of, seed_shop

pytestmark = pytest.mark.django_db
NOVEMBER = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture
def shop() -> None:
    with time_machine.travel(NOVEMBER, tick=False):
        seed_shop()


def test_a_full_run_writes_this_months_snapshot_of_every_score(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        run = run_now()
    snapshots = ScoreSnapshot.objects.filter(month=date(2026, 11, 1))
    assert snapshots.count() == CustomerScore.objects.count() == run.customers
    assert "snapshot" in run.timings
    score = CustomerScore.objects.order_by("-importance").first()
    assert score is not None
    kept = snapshots.get(customer_id=score.customer_id)
    assert (kept.importance, kept.tier, kept.segment, kept.run_id) == (
        score.importance,
        score.tier,
        score.segment,
        run.pk,
    )
    assert kept.churn_risk == pytest.approx(score.churn_risk)


def test_a_later_run_in_the_same_month_updates_the_months_snapshot(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        first = run_now()
        before = dict(CustomerScore.objects.values_list("customer_id", "churn_risk"))
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        later = run_now()
    assert ScoreSnapshot.objects.count() == CustomerScore.objects.count()
    moved = [
        s
        for s in CustomerScore.objects.all()
        if round((s.churn_risk or 0) * 100) != round((before[s.customer_id] or 0) * 100)
    ]
    assert moved
    for score in moved:
        kept = ScoreSnapshot.objects.get(customer_id=score.customer_id)
        assert (kept.churn_risk, kept.run_id) == (pytest.approx(score.churn_risk), later.pk)
    assert ScoreSnapshot.objects.filter(run_id=first.pk).count() < CustomerScore.objects.count()


def test_a_later_run_leaves_a_snapshot_whose_figures_did_not_move_as_it_was(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        first = run_now()
        second = run_now()
    assert not ScoreSnapshot.objects.filter(run_id=second.pk).exists()
    assert ScoreSnapshot.objects.filter(run_id=first.pk).count() == CustomerScore.objects.count()


def test_a_run_in_the_next_month_adds_that_months_snapshot(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        run_now()
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=UTC), tick=False):
        run_now()
    months = set(ScoreSnapshot.objects.values_list("month", flat=True))
    assert months == {date(2026, 11, 1), date(2026, 12, 1)}
    assert ScoreSnapshot.objects.filter(month=date(2026, 12, 1)).count() == CustomerScore.objects.count()


def _last_month_churn(customer_id: int, churn: float) -> None:
    ScoreSnapshot.objects.filter(customer_id=customer_id, month=date(2026, 11, 1)).update(churn_risk=churn)


def test_churn_risk_well_above_last_months_snapshot_reads_rising(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        run_now()
    score = CustomerScore.objects.filter(churn_risk__gt=0.3).order_by("customer_id").first()
    assert score is not None and score.churn_risk is not None
    _last_month_churn(score.customer_id, score.churn_risk - 0.2)
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=UTC), tick=False):
        run_now()
        rising = score_of(score.customer_id)
        with translation.override("en"):
            assert rising.churn_rising and ", rising" in rising.explanation


def test_churn_risk_within_five_points_of_last_months_does_not_read_rising(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        run_now()
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=UTC), tick=False):
        run_now()
        score = CustomerScore.objects.filter(churn_risk__gt=0.3).order_by("customer_id").first()
        assert score is not None and score.churn_risk is not None
        _last_month_churn(score.customer_id, score.churn_risk - 0.04)
        score_customers(customer_ids=[score.customer_id])
    steady = score_of(score.customer_id)
    assert steady.previous_churn_risk == pytest.approx(score.churn_risk - 0.04)
    with translation.override("en"):
        assert not steady.churn_rising and "rising" not in steady.explanation


def test_the_single_update_reads_last_months_snapshot_like_the_full_run(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        run_now()
    score = CustomerScore.objects.filter(churn_risk__gt=0.3).order_by("customer_id").first()
    assert score is not None
    _last_month_churn(score.customer_id, 0.01)
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=UTC), tick=False):
        run_now()
        full = score_of(score.customer_id)
        score_customers(customer_ids=[score.customer_id])
        single = score_of(score.customer_id)
    assert single.previous_churn_risk == full.previous_churn_risk == pytest.approx(0.01)
    assert single.churn_rising and full.churn_rising
