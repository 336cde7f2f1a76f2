"""Twelve-month CLV and the one-call predictions."""

import numpy as np

from scoring.engine.bgnbd import BgNbdParams, expected_transactions, probability_alive
from scoring.engine.clv import DAYS_PER_MONTH, predict, predicted_clv
from scoring.engine.gamma_gamma import GammaGammaParams, expected_average_value

IN_DAYS = BgNbdParams(r=0.8, alpha=60.0, a=0.8, b=3.0)
VALUE = GammaGammaParams(p=6.0, q=4.0, gamma=1500.0)


def base() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    T = np.floor(rng.uniform(0, 900, 2000))
    x = rng.poisson(2.0, 2000).astype(np.float64)
    t_x = np.where(x > 0, np.floor(T * rng.random(2000)), 0.0)
    return x, t_x, T, rng.gamma(20.0, 150.0, 2000)


def test_without_discounting_clv_is_twelve_months_of_expected_transactions_times_value_and_margin() -> None:
    # The monthly increments telescope: Σ_m (E[Y(t_m)] − E[Y(t_{m−1})]) = E[Y(12 months)].
    x, t_x, T, value = base()
    clv = predicted_clv(IN_DAYS, x, t_x, T, value, margin=0.3, monthly_discount=0.0)
    year = expected_transactions(IN_DAYS, 12 * DAYS_PER_MONTH, x, t_x, T)
    assert np.allclose(clv, year * value * 0.3, rtol=1e-12)


def test_clv_is_proportional_to_margin_and_falls_with_the_discount_rate() -> None:
    x, t_x, T, value = base()
    low = predicted_clv(IN_DAYS, x, t_x, T, value, margin=0.3, monthly_discount=0.01)
    assert np.all(low > 0)
    assert np.allclose(predicted_clv(IN_DAYS, x, t_x, T, value, margin=0.6, monthly_discount=0.01), 2 * low)
    assert np.all(predicted_clv(IN_DAYS, x, t_x, T, value, margin=0.3, monthly_discount=0.05) < low)


def test_weeks_and_days_give_the_same_clv() -> None:
    # α is a time scale: the same shop in weeks has α/7, and every time in the summary is divided by 7.
    x, t_x, T, value = base()
    in_weeks = BgNbdParams(IN_DAYS.r, IN_DAYS.alpha / 7, IN_DAYS.a, IN_DAYS.b)
    days = predicted_clv(IN_DAYS, x, t_x, T, value, margin=0.3, monthly_discount=0.01)
    weeks = predicted_clv(in_weeks, x, t_x / 7, T / 7, value, margin=0.3, monthly_discount=0.01, days_per_period=7.0)
    assert np.allclose(days, weeks, rtol=1e-10)


def test_predict_gives_the_same_figures_as_the_separate_functions() -> None:
    x, t_x, T, average = base()
    figures = predict(IN_DAYS, VALUE, x, t_x, T, average, margin=0.3, monthly_discount=0.01)
    value = expected_average_value(VALUE, x, average)
    assert np.array_equal(figures.p_alive, probability_alive(IN_DAYS, x, t_x, T))
    for days in (30, 90, 365):
        assert np.allclose(figures.expected[days], expected_transactions(IN_DAYS, days, x, t_x, T), rtol=1e-13)
    assert np.allclose(figures.expected_value, value)
    clv = predicted_clv(IN_DAYS, x, t_x, T, value, margin=0.3, monthly_discount=0.01)
    assert np.allclose(figures.clv, clv, rtol=1e-13)


def test_predictions_for_heavy_and_silent_customers_are_finite_and_non_negative() -> None:
    x = np.array([2000.0, 0.0, 500.0])
    t_x = np.array([6990.0, 0.0, 100.0])
    T = np.array([7000.0, 1e6, 7000.0])
    figures = predict(IN_DAYS, VALUE, x, t_x, T, np.array([900.0, 0.0, 50.0]), margin=0.3, monthly_discount=0.01)
    for values in (figures.p_alive, figures.clv, figures.expected_value, *figures.expected.values()):
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert np.all((figures.p_alive >= 0) & (figures.p_alive <= 1))
