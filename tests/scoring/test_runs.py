"""Scoring runs on the database: statistics, fits or fallback, repeatability, and single-customer updates."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import psycopg2
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation

from customers.merging import customer_merge
from customers.models import Customer
from orders.models import OrderStatus
from orders.services import order_change_status
from scoring import storage
from scoring.models import CustomerScore, ScoringRun
from scoring.services import score_customers, scoring_full_run, scoring_run_start
from tests.scoring.runs import buy, run_now

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_today():
    """The demo shop ends today and the run scores as of today: freeze today so the fitted base is the same on
    every run of the suite."""
    with time_machine.travel(datetime(2026, 11, 1, 12, tzinfo=UTC), tick=False):
        yield


SCORE_FIELDS = (
    "importance",
    "tier",
    "segment",
    "r_score",
    "f_score",
    "m_score",
    "p_alive",
    "expected_90",
    "predicted_clv",
    "churn_risk",
    "transactions",
    "total_value",
)


def snapshot() -> dict[int, tuple]:
    return {s.customer_id: tuple(getattr(s, f) for f in SCORE_FIELDS) for s in CustomerScore.objects.all()}


@pytest.fixture
def shop_base() -> None:
    call_command("seed_demo", customers=400, seed=21, stdout=StringIO())


def test_a_full_run_fits_the_model_and_records_parameters_and_timings(shop_base):
    run = run_now()
    assert run.state == ScoringRun.State.SUCCEEDED and run.method == "bgnbd"
    assert set(run.params["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert run.params["bgnbd_log_likelihood"] < 0
    assert set(run.timings) >= {"statistics", "fit", "score", "write"}
    assert run.customers == CustomerScore.objects.count() > 300
    score = CustomerScore.objects.order_by("-importance").first()
    with translation.override("en"):
        assert score is not None and score.tier == "vip" and "Top" in score.explanation


def test_running_twice_gives_the_same_scores(shop_base):
    run_now()
    first = snapshot()
    run_now()
    assert snapshot() == first


def test_the_single_customer_path_agrees_with_the_full_run(shop_base):
    run_now()
    full = snapshot()
    sample = list(full)[:25]
    score_customers(customer_ids=sample)
    again = snapshot()
    assert {c: again[c] for c in sample} == {c: full[c] for c in sample}


def test_a_dozen_customers_fall_back_to_rf_and_say_why():
    start = datetime(2026, 1, 5, tzinfo=UTC)
    for n in range(12):
        buy(f"+7999000{n:04d}", f"A-{n}", start + timedelta(days=n))
    run = run_now()
    assert (run.method, run.fallback_reason) == ("rf", "few_customers")
    with translation.override("en"):
        assert run.fallback_sentence == "Only 12 customers have a delivered order; the model needs at least 100."
    score = CustomerScore.objects.first()
    assert score is not None and score.p_alive is None and score.r_score in range(1, 6)
    with translation.override("en"):
        assert "no model yet" in score.explanation


def test_same_day_orders_count_as_one_transaction_and_returns_and_cancellations_do_not_count():
    day = datetime(2026, 3, 1, 10, tzinfo=UTC)
    buy("+79990000001", "A-1", day, "1000.00")
    buy("+79990000001", "A-2", day + timedelta(hours=3), "500.00")
    buy("+79990000001", "A-3", day + timedelta(days=10), "700.00")
    buy("+79990000001", "A-4", day + timedelta(days=20), "900.00", status=OrderStatus.CANCELLED)
    run_now()
    score = CustomerScore.objects.get()
    assert (score.transactions, score.total_value) == (2, Decimal("2200.00"))


def test_a_returned_order_lowers_the_customers_statistics():
    day = datetime(2026, 3, 1, 10, tzinfo=UTC)
    buy("+79990000001", "A-1", day, "1000.00")
    second = buy("+79990000001", "A-2", day + timedelta(days=10), "700.00")
    run_now()
    before = CustomerScore.objects.get()
    order_change_status(order=second, status=OrderStatus.RETURNED)
    score_customers(customer_ids=[second.customer_id])
    after = CustomerScore.objects.get()
    assert (before.transactions, before.total_value) == (2, Decimal("1700.00"))
    assert (after.transactions, after.total_value) == (1, Decimal("1000.00"))


def test_a_changed_order_queues_its_customers_rescore(shop_base, django_capture_on_commit_callbacks):
    run_now()
    customer = Customer.objects.filter(orders_count__gt=0).first()
    assert customer is not None
    CustomerScore.objects.filter(customer=customer).delete()
    phone = customer.phones.values_list("number", flat=True).first()
    assert phone is not None
    with django_capture_on_commit_callbacks(execute=True):
        buy(phone, "NEW-1", timezone.now() - timedelta(days=1))
    assert CustomerScore.objects.filter(customer=customer).exists()


def test_a_run_is_claimed_once(shop_base):
    run = ScoringRun.objects.create()
    assert scoring_full_run(run_id=run.pk) is not None
    assert scoring_full_run(run_id=run.pk) is None


def test_starting_a_run_queues_it_after_commit(django_capture_on_commit_callbacks):
    buy("+79990000001", "A-1", datetime(2026, 3, 1, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        run = scoring_run_start()
    run.refresh_from_db()
    assert run.state == ScoringRun.State.SUCCEEDED


def test_a_shop_with_no_orders_yet_runs_and_scores_nobody():
    run = run_now()
    assert (run.state, run.method, run.customers) == (ScoringRun.State.SUCCEEDED, "rf", 0)
    assert run.fallback_reason == "few_customers" and not CustomerScore.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_progress_bar_moves_while_the_run_writes_inside_its_transaction(shop_base, monkeypatch):
    seen: list[int] = []
    swap = storage.swap_fresh

    def swap_seen_from_outside(**kwargs: Any) -> int:
        other = psycopg2.connect(**connection.get_connection_params())
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT progress FROM scoring_scoringrun WHERE id = %s", [run.pk])
                seen.append(cursor.fetchone()[0])
        finally:
            other.close()
        return swap(**kwargs)

    monkeypatch.setattr(storage, "swap_fresh", swap_seen_from_outside)
    run = ScoringRun.objects.create()
    finished = scoring_full_run(run_id=run.pk)
    assert seen == [95]
    assert finished is not None and finished.progress == 100


def test_a_merge_rescores_the_survivor_with_the_orders_it_gained_and_drops_the_duplicates_score(
    shop_base, owner, django_capture_on_commit_callbacks
):
    day = timezone.now() - timedelta(days=30)
    survivor = buy("+7 900 111-22-33", "MERGE-1", day).customer
    duplicate = buy("+7 900 444-55-66", "MERGE-2", day + timedelta(days=7)).customer
    run_now()
    assert CustomerScore.objects.get(customer=survivor).transactions == 1
    with django_capture_on_commit_callbacks(execute=True):
        customer_merge(survivor=survivor, duplicate=duplicate, user=owner)
    assert CustomerScore.objects.get(customer=survivor).transactions == 2
    assert not CustomerScore.objects.filter(customer=duplicate).exists()
