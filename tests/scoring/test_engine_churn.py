"""Churn risk as the probability of no purchase within the horizon, and the shop's own history without a model."""

import numpy as np

from scoring.engine import bgnbd, survival
from scoring.engine.backtest import roc_auc, split_history
from tests.scoring.cdnow import calibration_summary

CDNOW_IN_WEEKS = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_a_one_time_buyers_churn_risk_rises_with_the_time_since_the_purchase() -> None:
    T = np.array([1.0, 10.0, 50.0, 200.0, 1000.0])
    risk = bgnbd.probability_no_purchase(CDNOW_IN_WEEKS, 39.0, np.zeros(5), np.zeros(5), T)
    assert np.all(np.diff(risk) > 0)


def test_a_customer_silent_for_years_never_has_churn_risk_zero() -> None:
    risk = bgnbd.probability_no_purchase(
        CDNOW_IN_WEEKS, 4.0, np.array([0.0, 5.0]), np.array([0.0, 10.0]), np.array([520.0, 520.0])
    )
    assert np.all(risk > 0.5)


def test_no_purchase_probability_matches_a_simulation_of_the_model() -> None:
    params = bgnbd.BgNbdParams(r=2.0, alpha=20.0, a=1.0, b=4.0)
    rng = np.random.default_rng(7)
    size, x, t_x, T, horizon = 400_000, 2, 30.0, 60.0, 25.0
    # Draw customers from the prior, keep those with this history, and count who buys in (T, T + horizon].
    rate = rng.gamma(params.r, 1 / params.alpha, size)
    p = rng.beta(params.a, params.b, size)
    # The posterior given (x, t_x, T) is the prior weighted by the likelihood (FHL 2005 eq. 3).
    weight = rate**x * (1 - p) ** x * (np.exp(-rate * T) + p / (1 - p) * np.exp(-rate * t_x))
    alive_share = np.exp(-rate * T) / (np.exp(-rate * T) + p / (1 - p) * np.exp(-rate * t_x))
    none = (1 - alive_share) + alive_share * np.exp(-rate * horizon)
    simulated = float((weight * none).sum() / weight.sum())
    exact = float(bgnbd.probability_no_purchase(params, horizon, np.array([x]), np.array([t_x]), np.array([T]))[0])
    assert abs(simulated - exact) < 0.005


def test_on_cdnow_churn_risk_ranks_who_did_not_buy_in_the_holdout_far_better_than_a_coin() -> None:
    x, t_x, T, _ = calibration_summary()
    fit = bgnbd.fit(x, t_x, T)
    holdout = holdout_purchases()
    risk = bgnbd.probability_no_purchase(fit.params, 39.0, x, t_x, T)
    assert roc_auc(risk, holdout == 0) >= 0.75
    # The figure it replaces, 1 − P(alive), ranked worse than a coin.
    assert roc_auc(1 - bgnbd.probability_alive(fit.params, x, t_x, T), holdout == 0) < 0.5


def holdout_purchases() -> np.ndarray:
    """Purchase days of each CDNOW sample customer in the 39 weeks after the calibration, in the order of
    ``calibration_summary`` (customers in the order they first appear in the file)."""
    from collections import defaultdict
    from datetime import date

    from tests.scoring.cdnow import CALIBRATION_END, DATA

    days: dict[str, set[date]] = defaultdict(set)
    order: list[str] = []
    for line in DATA.read_text().splitlines():
        _master, customer, stamp, _cds, _value = line.split()
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
        if customer not in days:
            order.append(customer)
            days[customer] = set()
        if day > CALIBRATION_END:
            days[customer].add(day)
    return np.array([len(days[c]) for c in order], dtype=np.float64)


def test_the_horizon_is_the_80th_percentile_of_the_gaps_between_purchases() -> None:
    customers = np.array([1, 1, 1, 2, 2, 3] + [4] * 21, dtype=np.int64)
    days = np.array([0, 10, 30, 5, 45, 7] + [float(d * 10) for d in range(21)])
    gaps = survival.gap_histogram(customers, days)
    # Gaps: 10, 20, 40 and twenty 10s: 23 in all; 80 % of them are at most 10 days.
    assert int(gaps.sum()) == 23 and survival.horizon_days(gaps) == 10


def test_too_few_returns_give_no_horizon_and_no_survival_curve() -> None:
    gaps = survival.gap_histogram(np.array([1, 1, 2], dtype=np.int64), np.array([0.0, 30.0, 3.0]))
    assert survival.horizon_days(gaps) is None
    assert survival.survival_curve(gaps, np.array([5, 5])) is None


def test_without_a_model_the_chance_of_no_return_follows_the_shops_history() -> None:
    # Thirty returns, all 10 days after the previous purchase; ten customers silent for 100 days.
    gaps = np.zeros(11, dtype=np.int64)
    gaps[10] = 30
    silences = np.zeros(101, dtype=np.int64)
    silences[100] = 10
    curve = survival.survival_curve(gaps, silences)
    assert curve is not None
    chance = survival.probability_no_return(curve, np.array([0.0, 5.0, 20.0, 100.0]), 7.0)
    # Silent 0 days: nobody returns within 7 (returns come at 10). Silent 5: 10 falls inside the next 7 days, and
    # 30 of the 40 at risk returned then. Silent 20 or 100: past every return seen, so no return is expected.
    assert np.allclose(chance, [1.0, 0.25, 1.0, 1.0])


def test_the_split_counts_the_cohorts_holdout_purchases_and_leaves_out_later_customers() -> None:
    customers = np.array([1, 1, 1, 2, 3], dtype=np.int64)
    days = np.array([0.0, 20.0, 40.0, 5.0, 35.0])
    values = np.array([10.0, 20.0, 30.0, 7.0, 99.0])
    split = split_history(customers, days, values, cutoff=30, end=44)
    assert split.x.tolist() == [1.0, 0.0] and split.T.tolist() == [30.0, 25.0] and split.t_x.tolist() == [20.0, 0.0]
    assert split.holdout_purchases.tolist() == [1.0, 0.0] and split.holdout_value.tolist() == [30.0, 0.0]
    assert split.weekly.tolist() == [0, 1] and split.repeat_average.tolist() == [20.0, 0.0]
