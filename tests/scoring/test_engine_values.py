"""The engine's per-customer values on hand-checked cases, and heavy buyers that must not overflow."""

import numpy as np
from scipy.special import hyp2f1

from scoring.engine.bgnbd import BgNbdParams, expected_transactions, probability_alive
from scoring.engine.gamma_gamma import GammaGammaParams, expected_average_value

CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_published_example_expects_1_226_transactions_in_39_weeks():
    # Fader, Hardie & Lee (2005): a customer with x = 2, t_x = 30.43, T = 38.86 weeks.
    value = expected_transactions(CDNOW, 39, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert round(float(value[0]), 3) == 1.226


def test_a_customer_who_just_bought_is_alive_with_probability_b_over_a_plus_b():
    # t_x = T makes ((alpha+T)/(alpha+t_x))^(r+x) = 1, so P(alive) = 1 / (1 + a/(b+x-1)); x = 1: b/(a+b) = 3/4.
    params = BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=3.0)
    value = probability_alive(params, np.array([1.0]), np.array([10.0]), np.array([10.0]))
    assert np.isclose(value[0], 0.75)


def test_no_repeat_purchase_means_certainly_alive():
    value = probability_alive(CDNOW, np.array([0.0]), np.array([0.0]), np.array([52.0]))
    assert value[0] == 1.0


def test_the_transformed_hypergeometric_term_equals_the_paper_formula_where_that_one_is_accurate():
    x, t_x, T, t = np.array([3.0]), np.array([20.0]), np.array([30.0]), 26.0
    r, alpha, a, b = CDNOW.r, CDNOW.alpha, CDNOW.a, CDNOW.b
    z = t / (alpha + T + t)
    direct_tail = ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    direct = (a + b + x - 1) / (a - 1) * (1 - direct_tail) * probability_alive(CDNOW, x, t_x, T)
    assert np.allclose(expected_transactions(CDNOW, t, x, t_x, T), direct, rtol=1e-9)


def test_heavy_and_long_silent_buyers_give_finite_non_negative_values():
    x = np.array([2000.0, 0.0, 500.0, 1.0])
    t_x = np.array([999.0, 0.0, 10.0, 0.001])
    T = np.array([1000.0, 5000.0, 1000.0, 1e6])
    alive = probability_alive(CDNOW, x, t_x, T)
    expected = expected_transactions(CDNOW, 52, x, t_x, T)
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    assert expected[0] > 50  # a buyer of 2,000 transactions in 1,000 weeks, still active, keeps buying


def test_expected_value_shrinks_a_customers_average_toward_the_population():
    params = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    value = expected_average_value(params, np.array([1.0, 20.0, 0.0]), np.array([100.0, 100.0, 0.0]))
    population = params.population_mean
    assert population < value[0] < value[1] < 100.0
    assert np.isclose(value[2], population)
