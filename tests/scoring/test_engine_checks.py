"""When the engine falls back to RF quintiles, and that it says why."""

import numpy as np

from scoring.engine import bgnbd, checks, gamma_gamma
from scoring.engine.bgnbd import BgNbdFit, BgNbdParams


def simulated_base(size: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers drawn from BG/NBD with r = 0.8, α = 10, a = 0.9, b = 3 (weeks)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1 / 10.0, size)
    dropout = rng.beta(0.9, 3.0, size)
    T = rng.uniform(30, 100, size)
    x, t_x, clock = np.zeros(size), np.zeros(size), np.zeros(size)
    alive = np.ones(size, dtype=bool)
    while alive.any():
        clock = clock + rng.exponential(1 / rate)
        buying = alive & (clock < T)
        x[buying] += 1
        t_x[buying] = clock[buying]
        alive &= buying & (rng.random(size) >= dropout)
    return x, t_x, T


def test_a_dozen_customers_fall_back_with_a_reason_that_names_the_count() -> None:
    assert checks.data_too_thin(np.array([0.0] * 10 + [1.0, 2.0])) == (
        "few_customers",
        {"customers": 12, "minimum": checks.MIN_CUSTOMERS},
    )


def test_two_hundred_customers_with_five_repeat_buyers_fall_back() -> None:
    reason = checks.data_too_thin(np.array([0.0] * 195 + [1.0] * 5))
    assert reason == ("few_repeaters", {"repeaters": 5, "minimum": checks.MIN_REPEATERS})


def test_weights_count_as_customers() -> None:
    assert checks.data_too_thin(np.array([0.0, 1.0]), weights=np.array([150.0, 50.0])) is None


def test_a_fit_stopped_early_falls_back_keeping_the_optimisers_message_aside() -> None:
    x, t_x, T = simulated_base(2000, 1)
    stopped = bgnbd.fit(x, t_x, T, max_iterations=2)
    code, detail = checks.fit_problem(stopped, None) or ("", {})
    assert code == "bgnbd_no_maximum" and "ITERATIONS" in detail["message"]


def test_unusual_bgnbd_parameters_are_not_a_reason_to_fall_back_when_the_likelihood_peaked() -> None:
    unusual = BgNbdFit(BgNbdParams(1e-7, 1.0, 1e6, 1e6), -1.0, 10, True, "CONVERGENCE")
    assert checks.fit_problem(unusual, None) is None


def test_a_healthy_simulated_base_passes_every_check_and_recovers_its_parameters() -> None:
    x, t_x, T = simulated_base(20000, 3)
    fit = bgnbd.fit(x, t_x, T)
    gg = gamma_gamma.fit(x, np.where(x > 0, np.random.default_rng(1).gamma(30.0, 2.0, x.size), 0.0))
    assert checks.data_too_thin(x) is None
    assert checks.fit_problem(fit, gg) is None
    assert abs(fit.params.r - 0.8) < 0.15 and abs(fit.params.a - 0.9) < 0.3


def constant_dropout_base(size: int, seed: int, dropout: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers who all leave after a purchase with the same probability (rates Gamma(1, 30 days), up to two
    years with the shop). On this draw the unbounded likelihood keeps rising as a and b grow together."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(1.0, 1 / 30.0, size)
    T = rng.uniform(0, 730, size)
    x, t_x = np.zeros(size), np.zeros(size)
    for i in range(size):
        clock = 0.0
        while True:
            clock += rng.exponential(1 / rate[i])
            if clock > T[i]:
                break
            x[i] += 1
            t_x[i] = clock
            if rng.random() < dropout:
                break
    return x, np.round(t_x), np.round(T)


def test_a_base_whose_customers_all_leave_at_one_rate_fits_instead_of_falling_back() -> None:
    x, t_x, T = constant_dropout_base(20000, 1, 0.3)
    keys = bgnbd.collapse_summaries(x, t_x, T)
    fit = bgnbd.fit(keys[0], keys[1], keys[2], weights=keys[3])
    assert fit.constant_dropout and min(fit.params.a, fit.params.b) > 100
    assert checks.fit_problem(fit, None) is None
    assert abs(fit.params.a / (fit.params.a + fit.params.b) - 0.3) < 0.02
    assert abs(fit.params.r - 1.0) < 0.1 and abs(fit.params.alpha - 30.0) < 3.0
    expected = bgnbd.expected_transactions_over(fit.params, [30, 90, 365], x, t_x, T)
    assert np.all(np.isfinite(expected))
