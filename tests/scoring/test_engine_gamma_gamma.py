"""Gamma-Gamma: the gradient, the currency unit, and the expected value per transaction."""

import numpy as np

from scoring.engine import gamma_gamma
from scoring.engine.gamma_gamma import GammaGammaParams, expected_average_value

CDNOW = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def simulated(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Repeat buyers drawn from the model: ν ~ Gamma(q, γ), the mean of x values ~ Gamma(p·x, ν·x)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 12, size).astype(np.float64)
    nu = rng.gamma(4.0, 1 / 30.0, size)
    return x, rng.gamma(5.0 * x, 1.0 / (nu * x))


def test_the_analytic_gradient_matches_finite_differences_and_the_per_customer_form() -> None:
    x, m = simulated(400, 1)
    weights = np.random.default_rng(2).integers(1, 4, 400).astype(np.float64)
    objective = gamma_gamma._Objective(x, m, weights)
    for params in ([6.0, 3.7, 15.0], [1.0, 2.0, 30.0]):
        point = np.log(params)
        value, gradient = objective(point)
        numeric = [(objective(point + 1e-6 * u)[0] - objective(point - 1e-6 * u)[0]) / 2e-6 for u in np.eye(3)]
        assert np.allclose(gradient, numeric, rtol=1e-5, atol=1e-8)
        ll, grad = gamma_gamma.log_likelihood_terms(np.array(params), x, m)
        assert np.isclose(value, -(weights @ ll) / weights.sum(), rtol=1e-12)
        assert np.allclose(gradient, -(weights @ grad) * np.array(params) / weights.sum(), rtol=1e-10)


def test_the_fit_recovers_the_parameters_it_was_drawn_from() -> None:
    x, m = simulated(20000, 3)
    result = gamma_gamma.fit(x, m)
    assert result.converged
    assert abs(result.params.p - 5.0) < 0.3 and abs(result.params.q - 4.0) < 0.4


def test_prices_in_kopecks_instead_of_roubles_scale_gamma_and_nothing_else() -> None:
    x, m = simulated(2000, 4)
    roubles = gamma_gamma.fit(x, m)
    kopecks = gamma_gamma.fit(x, m * 100)
    assert np.isclose(kopecks.params.p, roubles.params.p, rtol=1e-5)
    assert np.isclose(kopecks.params.q, roubles.params.q, rtol=1e-5)
    assert np.isclose(kopecks.params.gamma, 100 * roubles.params.gamma, rtol=1e-5)
    # A density in kopecks is the density in roubles / 100, once per customer.
    assert np.isclose(kopecks.log_likelihood, roubles.log_likelihood - x.size * np.log(100), rtol=1e-9)


def test_customers_without_a_repeat_purchase_are_left_out_of_the_fit() -> None:
    x, m = simulated(500, 5)
    with_one_timers = gamma_gamma.fit(np.concatenate([x, np.zeros(300)]), np.concatenate([m, np.zeros(300)]))
    alone = gamma_gamma.fit(x, m)
    assert list(with_one_timers.params.as_dict().values()) == list(alone.params.as_dict().values())


def test_identical_spenders_leave_q_unbounded_and_the_fit_says_so() -> None:
    result = gamma_gamma.fit(np.arange(1.0, 301.0) % 4 + 1, np.full(300, 50.0))
    assert not result.converged and result.reason is not None


def test_expected_value_shrinks_a_customers_average_toward_the_population_mean() -> None:
    # E(M | x, m_x) = (γ + m_x·x)·p / (p·x + q − 1); x = 1, m = 100: (15.44 + 100)·6.25 / (6.25 + 2.74) = 80.26.
    value = expected_average_value(CDNOW, np.array([1.0, 20.0, 0.0]), np.array([100.0, 100.0, 0.0]))
    population = CDNOW.population_mean
    assert np.isclose(population, 6.25 * 15.44 / 2.74)
    assert np.isclose(value[0], 115.44 * 6.25 / 8.99)
    assert population < value[0] < value[1] < 100.0
    assert value[2] == population
