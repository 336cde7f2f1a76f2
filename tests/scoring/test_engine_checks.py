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
    reason = checks.fallback_reason(np.array([0.0] * 10 + [1.0, 2.0]))
    assert reason is not None and "12 customers" in reason


def test_two_hundred_customers_with_five_repeat_buyers_fall_back() -> None:
    reason = checks.fallback_reason(np.array([0.0] * 195 + [1.0] * 5))
    assert reason is not None and "5 customers bought twice" in reason


def test_weights_count_as_customers() -> None:
    assert checks.data_too_thin(np.array([0.0, 1.0]), weights=np.array([150.0, 50.0])) is None


def test_a_fit_stopped_early_falls_back_with_the_optimisers_message() -> None:
    x, t_x, T = simulated_base(2000, 1)
    stopped = bgnbd.fit(x, t_x, T, max_iterations=2)
    reason = checks.fallback_reason(x, None, stopped, None)
    assert reason is not None and "did not converge" in reason and "ITERATIONS" in reason


def test_absurd_parameters_fall_back_even_when_the_optimiser_was_content() -> None:
    absurd = BgNbdFit(BgNbdParams(1e-7, 1.0, 1.0, 1.0), -1.0, 10, True, "CONVERGENCE")
    reason = checks.fit_problem(absurd, None)
    assert reason is not None and "implausible" in reason


def test_a_healthy_simulated_base_passes_every_check_and_recovers_its_parameters() -> None:
    x, t_x, T = simulated_base(20000, 3)
    fit = bgnbd.fit(x, t_x, T)
    gg = gamma_gamma.fit(x, np.where(x > 0, np.random.default_rng(1).gamma(30.0, 2.0, x.size), 0.0))
    assert checks.fallback_reason(x, None) is None
    assert checks.fallback_reason(x, None, fit, gg) is None
    assert abs(fit.params.r - 0.8) < 0.15 and abs(fit.params.a - 0.9) < 0.3
