"""BG/NBD per-customer figures: hand-checked cases, a high-precision reference, heavy buyers, the gradient."""

import numpy as np
import pytest

from scoring.engine import bgnbd
from scoring.engine.bgnbd import BgNbdParams, expected_transactions, probability_alive

CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def one(value: float) -> np.ndarray:
    return np.array([float(value)])


def test_a_customer_who_just_bought_is_alive_with_probability_b_plus_x_minus_1_over_a_plus_b_plus_x_minus_1() -> None:
    # P(alive) = 1 / (1 + a/(b+x−1)·((α+T)/(α+t_x))^(r+x)). With t_x = T the power is 1, so for a = 1, b = 3,
    # x = 1: 1 / (1 + 1/3) = 3/4, whatever r and α.
    params = BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=3.0)
    assert np.isclose(probability_alive(params, one(1), one(10), one(10))[0], 0.75, rtol=1e-14)


def test_a_customer_silent_since_the_first_repeat_is_alive_with_probability_one_in_seventeen() -> None:
    # r = 2, α = 1, a = 2, b = 1; x = 1, t_x = 0, T = 1: ((α+T)/(α+t_x))^(r+x) = (2/1)^3 = 8 and a/(b+x−1) = 2/1,
    # so P(alive) = 1 / (1 + 2·8) = 1/17.
    params = BgNbdParams(r=2.0, alpha=1.0, a=2.0, b=1.0)
    assert np.isclose(probability_alive(params, one(1), one(0), one(1))[0], 1 / 17, rtol=1e-14)


def test_expected_transactions_match_a_hand_derivation_where_the_hypergeometric_term_is_elementary() -> None:
    # With r = a + b − 1 the hypergeometric function of FHL 2005 eq. (10), after Euler's transformation,
    # 2F1(a+b−1−r, a−1; a+b+x−1; z) = 2F1(0, a−1; ·; z) = 1, so
    # E[Y(t)] = (a+b+x−1)/(a−1) · (1 − (1−z)^(a−1)) · P(alive), z = t/(α+T+t).
    # r = 2, α = 1, a = 2, b = 1; x = 1, t_x = 0, T = 1, t = 2: z = 2/4 = 1/2, so E = 3 · 1/2 · 1/17 = 3/34.
    params = BgNbdParams(r=2.0, alpha=1.0, a=2.0, b=1.0)
    assert np.isclose(expected_transactions(params, 2.0, one(1), one(0), one(1))[0], 3 / 34, rtol=1e-13)


def test_a_new_customer_expects_what_the_unconditional_formula_gives() -> None:
    # FHL 2005 eq. (9) for a customer just acquired, untransformed: E[X(t)] = (a+b−1)/(a−1)·[1 − (α/(α+t))^r ·
    # 2F1(r, b; a+b−1; t/(α+t))]. With r = 2, a = 2, b = 1: 2F1(2, 1; 2; z) = (1−z)^−1 = (α+t)/α, so
    # E[X(t)] = 2·(1 − α/(α+t)) = 2t/(α+t); α = 1, t = 3 gives 1.5.
    params = BgNbdParams(r=2.0, alpha=1.0, a=2.0, b=1.0)
    assert np.isclose(bgnbd.expected_transactions_new_customer(params, 3.0), 1.5, rtol=1e-13)


def test_the_published_example_expects_1_226_transactions_in_the_next_39_weeks() -> None:
    # Fader, Hardie & Lee (2005), the worked example: a CDNOW customer with x = 2, t_x = 30.43, T = 38.86 weeks.
    value = expected_transactions(CDNOW, 39, one(2), one(30.43), one(38.86))[0]
    assert round(float(value), 3) == 1.226


# E[Y(t) | x, t_x, T] from FHL 2005 eq. (10) as printed (no transformation), evaluated with mpmath at 50 digits:
#     head = (a+b+x-1)/(a-1) * (1 - ((al+T)/(al+T+t))**(r+x) * mp.hyp2f1(r+x, b+x, a+b+x-1, z, maxterms=10**6))
#     p_alive = 1/(1 + a/(b+x-1)*((al+T)/(al+tx))**(r+x)) if x > 0 else 1;  reference = head * p_alive
# The cases cover z near 1 (a new customer over ten years), a close to 1, and buyers of 500 and 2,000.
REFERENCE = [
    # (r, alpha, a, b), t, x, t_x, T, E[Y(t)]
    ((0.243, 4.414, 0.793, 2.426), 39, 2, 30.43, 38.86, 1.2260281747671444631),
    ((0.243, 4.414, 0.793, 2.426), 52, 0, 0, 38, 0.2565573636280084349),
    ((0.243, 4.414, 0.793, 2.426), 3650, 0, 0, 0, 10.748893981418432479),
    ((0.8, 30.0, 1.7, 4.0), 365, 12, 700, 730, 3.9379866939154354887),
    ((0.8, 30.0, 1.001, 4.0), 90, 3, 200, 400, 0.26780285636399570238),
    ((2.5, 3.0, 0.2, 0.9), 365, 500, 995, 1000, 176.12733889489836426),
    ((0.5, 10.0, 0.5, 3.0), 52, 2000, 999, 1000, 101.52072690559502474),
]


@pytest.mark.parametrize(("params", "t", "x", "t_x", "T", "reference"), REFERENCE)
def test_expected_transactions_agree_with_a_50_digit_evaluation_of_the_untransformed_formula(
    params: tuple[float, float, float, float], t: float, x: float, t_x: float, T: float, reference: float
) -> None:
    value = expected_transactions(BgNbdParams(*params), t, one(x), one(t_x), one(T))[0]
    assert np.isclose(value, reference, rtol=1e-9, atol=0.0)


def test_a_heavy_buyer_gone_quiet_expects_next_to_nothing_without_underflowing_into_nan() -> None:
    # The 50-digit value is 9.1e-589, below the smallest double: the answer must be a clean 0, not NaN.
    params = BgNbdParams(0.5, 10.0, 0.5, 3.0)
    value = expected_transactions(params, 52, one(2000), one(500), one(1000))[0]
    assert value == 0.0


def test_heavy_buyers_and_long_silent_customers_give_finite_non_negative_values() -> None:
    x = np.array([2000.0, 2000.0, 0.0, 0.0, 500.0, 1.0])
    t_x = np.array([999.0, 1000.0, 0.0, 0.0, 10.0, 0.001])
    T = np.array([1000.0, 1000.0, 1e6, 5000.0, 1000.0, 1e6])
    alive = probability_alive(CDNOW, x, t_x, T)
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    for horizon in (30 / 7, 90 / 7, 365 / 7):
        expected = expected_transactions(CDNOW, horizon, x, t_x, T)
        assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    # A buyer of 2,000 transactions in 1,000 weeks, still active, keeps buying about twice a week.
    assert 80 < expected_transactions(CDNOW, 52, x, t_x, T)[1] < 120
    ll, grad = bgnbd.log_likelihood_terms(CDNOW.as_array(), x, t_x, T)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(grad))


def test_no_repeat_purchase_means_certainly_alive() -> None:
    assert probability_alive(CDNOW, one(0), one(0), one(52))[0] == 1.0


def test_the_analytic_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(7)
    T = rng.uniform(1, 80, 300)
    x = rng.poisson(2.0, 300).astype(np.float64)
    t_x = np.where(x > 0, T * rng.uniform(0.1, 1.0, 300), 0.0)
    objective = bgnbd._Objective(x, t_x, T, rng.integers(1, 4, 300).astype(np.float64))
    for point in (np.log([0.3, 5.0, 0.7, 2.0]), np.log([2.0, 50.0, 3.0, 0.5])):
        _, gradient = objective(point)
        step = 1e-6
        numeric = [
            (objective(point + step * unit)[0] - objective(point - step * unit)[0]) / (2 * step) for unit in np.eye(4)
        ]
        assert np.allclose(gradient, numeric, rtol=1e-5, atol=1e-8)


def test_the_fast_objective_equals_the_plain_per_customer_log_likelihood() -> None:
    rng = np.random.default_rng(8)
    T = np.floor(rng.uniform(1, 400, 500))
    x = rng.poisson(1.5, 500).astype(np.float64)
    t_x = np.where(x > 0, np.floor(T * rng.uniform(0.1, 1.0, 500)), 0.0)
    weights = rng.integers(1, 5, 500).astype(np.float64)
    params = np.array([0.7, 40.0, 0.9, 3.0])
    value, gradient = bgnbd._Objective(x, t_x, T, weights)(np.log(params))
    ll, grad = bgnbd.log_likelihood_terms(params, x, t_x, T)
    assert np.isclose(value, -(weights @ ll) / weights.sum(), rtol=1e-13)
    assert np.allclose(gradient, -(weights @ grad) * params / weights.sum(), rtol=1e-11, atol=1e-14)


def test_a_base_where_nobody_ever_seems_to_leave_reports_the_runaway_parameter() -> None:
    # Every repeat buyer bought at the very end (t_x = T), so the likelihood keeps rising as a → 0.
    rng = np.random.default_rng(0)
    T = rng.uniform(20, 100, 500)
    x = rng.poisson(T / 10).astype(np.float64)
    result = bgnbd.fit(x, np.where(x > 0, T, 0.0), T)
    assert not result.converged and "ran to the edge" in result.message


def test_impossible_summaries_are_refused() -> None:
    with pytest.raises(ValueError, match="t_x"):
        bgnbd.fit(np.array([1.0, 0.0]), np.array([5.0, 0.0]), np.array([4.0, 3.0]))
