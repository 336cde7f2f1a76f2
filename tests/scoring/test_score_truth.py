"""What the score says is true: churn risk sees one-time buyers, importance ranks what is to come, the card shows
the model's figure and each addition apart, every fallback reason is a sentence, and the backtest on the shop's
own orders equals a hand computation from the holdout."""

import itertools
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import time_machine
from django.utils import timezone, translation

from customers.models import Customer
from orders.models import Order, OrderStatus
from scoring.backtests import backtest_from_split, backtest_run
from scoring.engine.backtest import split_history
from scoring.explain import reason_sentence
from scoring.models import Backtest, ChurnSignal, CustomerScore
from scoring.services import churn_signal_raise
from shop.models import ShopSettings
from shop.roles import Role
from tests.scoring.cdnow import CALIBRATION_END, DATA
from tests.scoring.runs import TODAY, buy, run_now, score_of, seed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_shop():
    with time_machine.travel(TODAY, tick=False):
        seed_shop(customers=400)
        yield run_now()


def test_every_one_time_buyer_has_a_churn_risk_that_rises_with_the_time_since_the_purchase(scored_shop):
    assert scored_shop.method == "bgnbd"
    one_time = list(
        CustomerScore.objects.filter(transactions=1, churn_reasons=[])
        .order_by("recency_days")
        .values_list("recency_days", "model_churn_risk", "churn_risk")
    )
    assert len(one_time) > 20
    assert all(model is not None and model > 0 and churn == model for _r, model, churn in one_time)
    # The risk of the first purchase day's customers (T equal) is the same; later days never read lower.
    risks = [float(model or 0) for _recency, model, _churn in one_time]
    assert all(later >= earlier - 1e-12 for earlier, later in itertools.pairwise(risks))


def test_the_run_records_its_horizon_from_the_shops_gaps_between_purchases(scored_shop):
    assert scored_shop.params["horizon_source"] == "gaps"
    assert 7 <= scored_shop.params["horizon_days"] <= 365
    assert scored_shop.params["gaps_observed"] > 20


def test_a_departed_big_spender_ranks_below_an_active_regular():
    with time_machine.travel(TODAY, tick=False):
        seed_shop(customers=400)
        long_ago = datetime(2024, 12, 1, 12, tzinfo=UTC)
        for n in range(6):
            big = buy("+79990000001", f"BIG-{n}", long_ago + timedelta(days=7 * n), total="90000.00")
        regular = None
        for n in range(8):
            regular = buy(
                "+79990000002",
                f"REG-{n}",
                datetime(2026, 6, 1, 12, tzinfo=UTC) + timedelta(days=20 * n),
                total="1500.00",
            )
        run_now()
    assert regular is not None
    departed, active = score_of(big.customer_id), score_of(regular.customer_id)
    assert departed.total_value > 10 * active.total_value
    assert departed.importance < active.importance


def test_the_card_shows_the_models_churn_risk_and_each_addition_apart(scored_shop, client_for):
    customer_id = CustomerScore.objects.filter(transactions=1).values_list("customer_id", flat=True)[0]
    with time_machine.travel(TODAY, tick=False):
        churn_signal_raise(
            customer_id=customer_id, kind=ChurnSignal.Kind.COMPLAINT, source="t:1", detail="rude", weight=0.4
        )
        run_now()
    score = score_of(customer_id)
    assert score.model_churn_risk is not None
    assert score.churn_risk == pytest.approx(min(1.0, score.model_churn_risk + 0.4))
    page = client_for(Role.MANAGER).get(f"/customers/{customer_id}/").content.decode()
    # The shop's default language is Russian.
    assert f"По истории покупок (модель BG/NBD): {score.model_churn_percent}%" in page
    assert "Открытая жалоба: rude: +40 п. п." in page
    assert "вероятность, что клиент ничего не купит в ближайш" in page


def test_a_single_rescore_keeps_the_additions_weights_and_the_models_figure(
    scored_shop, django_capture_on_commit_callbacks
):
    customer_id = CustomerScore.objects.filter(churn_reasons=[]).values_list("customer_id", flat=True)[0]
    before = score_of(customer_id)
    with time_machine.travel(TODAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        churn_signal_raise(
            customer_id=customer_id, kind=ChurnSignal.Kind.DETRACTOR, source="t:2", detail="", weight=0.15
        )
    after = score_of(customer_id)
    assert before.model_churn_risk is not None
    assert after.model_churn_risk == pytest.approx(before.model_churn_risk)
    assert after.churn_risk == pytest.approx(min(1.0, before.model_churn_risk + 0.15))
    with translation.override("en"):
        assert after.churn_additions == [("Detractor answer", 15)]


FALLBACK_EXAMPLES: dict[str, dict[str, Any]] = {
    "few_customers": {"customers": 12, "minimum": 100},
    "few_repeaters": {"repeaters": 5, "minimum": 20},
    "bgnbd_no_maximum": {"message": "ABNORMAL: "},
    "gamma_gamma_no_maximum": {"message": "ABNORMAL: "},
    "gamma_gamma_no_mean": {"q": 0.8},
    "gamma_gamma_implausible": {"p": 1e6, "q": 2.0, "gamma": 3.0},
    "predictions_not_finite": {},
    "holdout_too_short": {"days": 10, "minimum": 28},
}


@pytest.mark.parametrize("code", sorted(FALLBACK_EXAMPLES))
def test_every_fallback_reason_reads_as_a_sentence_in_both_languages(code):
    with translation.override("en"):
        english = reason_sentence(code, FALLBACK_EXAMPLES[code])
    with translation.override("ru"):
        russian = reason_sentence(code, FALLBACK_EXAMPLES[code])
    for sentence in (english, russian):
        assert sentence[0].isupper() and sentence.endswith(".") and code not in sentence
        assert "ABNORMAL" not in sentence
    assert re.search(r"[A-Za-z]", russian) is None, russian


def test_a_backtest_refuses_a_base_too_small_and_says_why():
    with time_machine.travel(TODAY, tick=False):
        for n in range(12):
            buy(f"+7999100{n:04d}", f"S-{n}", datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(days=n))
        backtest = Backtest.objects.create(cutoff=date(2026, 5, 1))
        backtest_run(backtest_id=backtest.pk)
    backtest.refresh_from_db()
    assert (backtest.state, backtest.refusal) == (Backtest.State.REFUSED, "few_customers")
    with translation.override("ru"):
        assert "12" in backtest.refusal_sentence and re.search(r"[A-Za-z]", backtest.refusal_sentence) is None


def test_the_nightly_run_backtests_the_model_on_the_last_six_months(scored_shop):
    backtest = Backtest.objects.get(run=scored_shop)
    assert backtest.cutoff == date(2026, 11, 1) - timedelta(days=182)
    assert backtest.state == Backtest.State.SUCCEEDED
    assert backtest.figures["customers"] > 100 and backtest.figures["holdout_days"] == 182


def _cdnow_purchase_days() -> dict[int, dict[date, float]]:
    days: dict[int, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for line in DATA.read_text().splitlines():
        _master, customer, stamp, _cds, value = line.split()
        days[int(customer)][date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))] += float(value)
    return days


def test_the_backtest_on_cdnow_orders_equals_a_hand_count_of_the_holdout_and_ranks_churn_well():
    """The CDNOW sample loaded as orders (one order per purchase day, noon in the shop's zone), cut where the
    literature cuts it: the backtest's actual figures are the holdout's, counted here by hand."""
    shop = ShopSettings.load()
    shop.time_zone = "UTC"
    shop.save()
    purchases = _cdnow_purchase_days()
    customers = Customer.objects.bulk_create([Customer(name=f"CDNOW {n}") for n in sorted(purchases)])
    ids = dict(zip(sorted(purchases), (c.pk for c in customers), strict=True))
    Order.objects.bulk_create(
        [
            Order(
                source="cdnow",
                external_id=f"{n}-{day:%Y%m%d}",
                customer_id=ids[n],
                placed_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                status=OrderStatus.DELIVERED,
                total=Decimal(f"{value:.2f}"),
                subtotal=Decimal(f"{value:.2f}"),
            )
            for n, by_day in purchases.items()
            for day, value in by_day.items()
        ],
        batch_size=5000,
    )
    cutoff, end = CALIBRATION_END + timedelta(days=1), date(1998, 7, 1)
    with time_machine.travel(datetime(1998, 7, 1, 12, tzinfo=UTC), tick=False):
        backtest = Backtest.objects.create(cutoff=cutoff)
        backtest_run(backtest_id=backtest.pk)
    backtest.refresh_from_db()
    assert backtest.state == Backtest.State.SUCCEEDED, (backtest.refusal, backtest.error)
    figures = backtest.figures
    cohort = {n for n, by_day in purchases.items() if min(by_day) < cutoff}
    holdout = {n: sum(1 for day in by_day if cutoff <= day < end) for n, by_day in purchases.items() if n in cohort}
    assert figures["customers"] == len(cohort) == 2357
    assert figures["repeat_purchases"]["actual"] == sum(holdout.values()) == 1882
    assert sum(figures["weekly"]["actual"]) == 1882 and len(figures["weekly"]["actual"]) == 39
    assert figures["churn"]["actual_share"] == round(sum(1 for v in holdout.values() if v == 0) / len(cohort), 4)
    assert figures["churn"]["auc"] >= 0.75
    zero = figures["conditional"][0]
    assert zero["customers"] == 1411
    # The predicted total is the model's; within 20 % of the actual, so the verdict is "reliable".
    assert abs(figures["repeat_purchases"]["predicted"] - 1882) / 1882 < 0.2 and figures["verdict"]["reliable"]


def test_a_backtest_that_fails_is_recorded_and_does_not_raise():
    split = split_history(np.array([1], dtype=np.int64), np.array([0.0]), np.array([1.0]), cutoff=100, end=110)
    shop = ShopSettings.load()
    backtest = backtest_from_split(split=split, shop=shop, cutoff=100)
    assert (backtest.state, backtest.refusal) == (Backtest.State.REFUSED, "holdout_too_short")


def test_valuable_and_at_risk_flags_big_past_spenders_whose_churn_risk_is_high():
    with time_machine.travel(TODAY, tick=False):
        seed_shop(customers=400)
        long_ago = datetime(2024, 12, 1, 12, tzinfo=UTC)
        for n in range(6):
            big = buy("+79990000001", f"BIG-{n}", long_ago + timedelta(days=7 * n), total="90000.00")
        run = run_now()
    score = score_of(big.customer_id)
    assert score.churn_risk is not None and score.churn_risk >= 0.5
    assert score.at_risk_valuable and score.importance < 50
    flagged = CustomerScore.objects.filter(at_risk_valuable=True)
    assert all((s.churn_risk or 0) >= 0.5 and float(s.total_value) >= run.cut_points["valuable_total"] for s in flagged)
    assert (
        not CustomerScore.objects.filter(at_risk_valuable=False, churn_risk__gte=0.5)
        .filter(total_value__gte=run.cut_points["valuable_total"] + 0.01)
        .exists()
    )


def test_the_list_filters_valuable_and_at_risk_customers(client_for):
    with time_machine.travel(TODAY, tick=False):
        seed_shop(customers=200)
        run_now()
    flagged = set(CustomerScore.objects.filter(at_risk_valuable=True).values_list("customer_id", flat=True))
    assert flagged
    page = client_for(Role.MANAGER).get("/customers/?at_risk_valuable=on").content.decode()
    shown = {int(pk) for pk in re.findall(r'href="/customers/(\d+)/"', page)}
    assert shown and shown <= flagged


def test_a_backtest_where_everybody_bought_again_records_no_auc_and_says_churn_cannot_be_judged():
    # 400 customers with a Poisson number of purchase days before the cut-off (day 365) and one after it.
    rng = np.random.default_rng(3)
    rows = []
    for customer in range(1, 401):
        first = int(rng.integers(0, 300))
        later = sorted({int(d) for d in rng.integers(first + 1, 365, int(rng.poisson(1.5)))})
        for day in [first, *later, int(rng.integers(365, 400))]:
            rows.append((customer, float(day)))
    customers = np.array([c for c, _d in rows], dtype=np.int64)
    days = np.array([d for _c, d in rows])
    # Each customer spends around a mean of their own, as Gamma-Gamma expects.
    means = rng.gamma(3.0, 20.0, 401)
    values = means[customers] * rng.gamma(5.0, 0.2, customers.size)
    split = split_history(customers, days, values, cutoff=365, end=400)
    assert (split.holdout_purchases > 0).all()
    backtest = backtest_from_split(split=split, shop=ShopSettings.load(), cutoff=365)
    backtest.refresh_from_db()
    assert backtest.state == Backtest.State.SUCCEEDED, (backtest.refusal, backtest.error)
    assert backtest.figures["churn"]["auc"] is None
    assert {"code": "churn_unmeasured"} in backtest.figures["verdict"]["problems"]


def test_a_backtest_left_running_by_a_dead_worker_is_failed_by_the_sweep():
    from scoring.backtests import backtests_sweep

    stuck = Backtest.objects.create(cutoff=date(2026, 5, 1), state=Backtest.State.RUNNING)
    Backtest.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
    fresh = Backtest.objects.create(cutoff=date(2026, 5, 1), state=Backtest.State.RUNNING)
    assert backtests_sweep() == {"requeued": 0, "failed": 1}
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.state, fresh.state) == (Backtest.State.FAILED, Backtest.State.RUNNING)


def test_a_horizon_clipped_to_a_year_says_what_the_shop_showed():
    from scoring.explain import horizon_sentence

    params = {"horizon_days": 365, "horizon_source": "gaps", "gap_percentile_days": 500, "gaps_observed": 40}
    with translation.override("en"):
        sentence = horizon_sentence(params)
    assert "365 days" in sentence and "within 500 days" in sentence
