"""Monthly snapshots: one row per customer and month, the score as the month began; "rising" against the churn
risk the score stood at when last month ended."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.utils import translation

from scoring import storage
from scoring.models import CustomerScore, ScoreSnapshot, ScoringRun
from scoring.services import score_customers, scoring_full_run
from tests.scoring.runs import buy, run_now, score_of, seed_shop

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


def test_a_later_run_in_the_same_month_keeps_the_snapshot_of_the_months_start(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        first = run_now()
        began = dict(ScoreSnapshot.objects.values_list("customer_id", "churn_risk"))
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        later = run_now()
    moved = [s for s in CustomerScore.objects.all() if s.churn_risk != began[s.customer_id]]
    assert moved
    assert ScoreSnapshot.objects.count() == ScoreSnapshot.objects.filter(run_id=first.pk).count() == later.customers
    assert dict(ScoreSnapshot.objects.values_list("customer_id", "churn_risk")) == began


def test_a_later_run_adds_the_snapshot_of_a_customer_scored_for_the_first_time_since(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        run_now()
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        order = buy("+7 900 555-01-02", "first-since", datetime(2026, 11, 19, 12, tzinfo=UTC))
        later = run_now()
    added = ScoreSnapshot.objects.get(customer_id=order.customer_id)
    assert (added.month, added.run_id) == (date(2026, 11, 1), later.pk)
    assert ScoreSnapshot.objects.filter(run_id=later.pk).count() == 1


def test_a_run_in_the_next_month_adds_that_months_snapshot(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        run_now()
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=UTC), tick=False):
        run_now()
    months = set(ScoreSnapshot.objects.values_list("month", flat=True))
    assert months == {date(2026, 11, 1), date(2026, 12, 1)}
    assert ScoreSnapshot.objects.filter(month=date(2026, 12, 1)).count() == CustomerScore.objects.count()


def _last_month_churn(customer_id: int, churn: float) -> None:
    """The churn risk the customer's score stood at when November ended."""
    CustomerScore.objects.filter(customer_id=customer_id).update(churn_risk=churn)


def test_churn_risk_well_above_last_months_reads_rising(shop):
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
        # December's run carried November's churn risk over; a rescore later in December keeps comparing with it.
        CustomerScore.objects.filter(pk=score.pk).update(previous_churn_risk=score.churn_risk - 0.04)
        score_customers(customer_ids=[score.customer_id])
    steady = score_of(score.customer_id)
    assert steady.previous_churn_risk == pytest.approx(score.churn_risk - 0.04)
    with translation.override("en"):
        assert not steady.churn_rising and "rising" not in steady.explanation


def test_the_single_update_reads_last_months_churn_like_the_full_run(shop):
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


@pytest.mark.django_db(transaction=True)
def test_a_committed_run_commits_the_snapshot_written_beside_it_on_a_second_connection(shop):
    with time_machine.travel(NOVEMBER, tick=False):
        run = run_now()
    assert ScoreSnapshot.objects.filter(month=date(2026, 11, 1), run_id=run.pk).count() == run.customers > 0


@pytest.mark.django_db(transaction=True)
def test_a_run_that_fails_after_its_write_leaves_no_snapshot(shop, monkeypatch):
    def swap_fails(**kwargs: object) -> int:
        raise RuntimeError("the swap failed")

    monkeypatch.setattr(storage, "swap_fresh", swap_fails)
    with time_machine.travel(NOVEMBER, tick=False):
        run = ScoringRun.objects.create()
        with pytest.raises(RuntimeError):
            scoring_full_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == ScoringRun.State.FAILED
    assert not ScoreSnapshot.objects.exists() and not CustomerScore.objects.exists()
