"""RF quintiles, the segment map, CLV, importance tiers and the fallback decision."""

import numpy as np

from scoring.engine import checks
from scoring.engine.bgnbd import BgNbdFit, BgNbdParams, fit
from scoring.engine.clv import predicted_clv
from scoring.engine.importance import TierThresholds, importance, tiers, top_share
from scoring.engine.rfm import RF_MAP, SEGMENTS, quintile_scores, rf_segments


def test_quintiles_on_a_dozen_customers_span_one_to_five():
    scores = quintile_scores(np.arange(12, dtype=float))
    assert scores.min() == 1 and scores.max() == 5
    assert np.all(np.diff(scores) >= 0)


def test_tied_customers_share_a_score():
    values = np.array([1.0] * 70 + [2.0] * 20 + [5.0] * 10)
    scores = quintile_scores(values)
    assert len(set(scores[:70])) == 1 and len(set(scores[70:90])) == 1
    assert scores[-1] == 5


def test_recency_scores_the_most_recent_highest():
    scores = quintile_scores(np.array([1.0, 400.0, 30.0]), higher_is_better=False)
    assert scores[0] > scores[2] > scores[1]


def test_the_segment_map_names_all_25_cells_with_known_segments():
    cells = {name for row in RF_MAP for name in row}
    assert len(RF_MAP) == 5 and all(len(row) == 5 for row in RF_MAP)
    assert cells == set(SEGMENTS)
    assert rf_segments(np.array([5, 1, 1]), np.array([5, 1, 5])).tolist() == ["champions", "lost", "cant_lose"]


def test_clv_grows_with_margin_and_falls_with_the_discount_rate():
    params = BgNbdParams(r=0.8, alpha=60.0, a=0.8, b=3.0)
    x, t_x, T = np.array([5.0]), np.array([300.0]), np.array([320.0])
    value = np.array([2000.0])
    base = predicted_clv(params, x, t_x, T, value, margin=0.3, monthly_discount=0.01)
    assert base[0] > 0
    assert np.isclose(predicted_clv(params, x, t_x, T, value, margin=0.6, monthly_discount=0.01)[0], 2 * base[0])
    assert predicted_clv(params, x, t_x, T, value, margin=0.3, monthly_discount=0.05)[0] < base[0]


def test_importance_is_a_percentile_and_tiers_follow_the_thresholds():
    scores = importance(np.arange(100, dtype=float), np.zeros(100))
    assert scores[0] == 1
    assert scores[-1] == 100
    named = tiers(np.array([99, 85, 60, 10]), TierThresholds(vip=95, high=80, medium=50))
    assert named.tolist() == ["vip", "high", "medium", "low"]
    assert top_share(97) == 3


def test_a_dozen_customers_fall_back_with_a_reason():
    reason = checks.data_too_thin(np.array([0.0] * 10 + [1.0, 2.0]))
    assert reason is not None and "12 customers" in reason


def test_a_fit_that_did_not_converge_falls_back_with_its_message():
    failed = BgNbdFit(BgNbdParams(1, 1, 1, 1), -1.0, 500, False, "ABNORMAL_TERMINATION_IN_LNSRCH")
    assert "did not converge" in (checks.fit_problem(failed, None) or "")


def test_a_healthy_simulated_base_passes_the_checks_and_recovers_its_parameters():
    rng = np.random.default_rng(3)
    n = 20000
    rate = rng.gamma(0.8, 1 / 10.0, n)
    dropout = rng.beta(0.9, 3.0, n)
    T = rng.uniform(30, 100, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    clock = np.zeros(n)
    alive = np.ones(n, bool)
    for _ in range(200):
        clock = clock + rng.exponential(1 / rate)
        buying = alive & (clock < T)
        x[buying] += 1
        t_x[buying] = clock[buying]
        alive &= buying & (rng.random(n) >= dropout)
    result = fit(x, t_x, T)
    assert checks.data_too_thin(x) is None and checks.fit_problem(result, None) is None
    assert abs(result.params.r - 0.8) < 0.15 and abs(result.params.a - 0.9) < 0.3
