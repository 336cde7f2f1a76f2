"""The fit check's P(X(t) = x) (FHL 2005 eq. 8) against brute force: it sums to one, it matches the integral over
the customers' buying rates and dropout probabilities, and on CDNOW it reproduces the published fit's picture."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from scoring.engine.bgnbd import BgNbdParams
from scoring.engine.fit_check import actual_customers, expected_customers, pmf
from tests.scoring.cdnow import calibration_summary

CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL 2005, weeks
DAYS = BgNbdParams(r=0.6, alpha=120.0, a=1.6, b=2.4)


@pytest.mark.parametrize("params", [CDNOW, DAYS], ids=["cdnow-weeks", "days"])
@pytest.mark.parametrize("t", [0.0, 0.5, 7.0, 39.0, 365.0, 730.0])
def test_the_pmf_sums_to_one_over_every_count(params: BgNbdParams, t: float):
    probabilities = pmf(params, np.arange(0, 20_000, dtype=float), np.array([t]))[0]

    assert np.all(probabilities >= 0)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-6)


def test_a_customer_first_seen_today_has_made_no_repeat_purchase():
    probabilities = pmf(DAYS, np.arange(5, dtype=float), np.zeros(1))[0]

    assert probabilities.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]


def _brute_force(params: BgNbdParams, x: int, t: float) -> float:
    """P(X(t) = x) integrated over λ ~ Gamma(r, α) and p ~ Beta(a, b) from the individual-level model (FHL 2005
    eq. 3): a customer alive throughout buys Poisson(λt); one who drops out after the j-th repeat purchase (with
    probability p after each) stops there."""

    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)

    def poisson(j: int, mean: float) -> float:
        return math.exp(j * math.log(mean) - mean - math.lgamma(j + 1)) if mean > 0 else float(j == 0)

    def given(rate: float, p: float) -> float:
        if rate <= 0 or p <= 0 or p >= 1:
            return 0.0
        mean = rate * t
        alive = (1 - p) ** x * poisson(x, mean)
        dropped = p * (1 - p) ** (x - 1) * (1 - sum(poisson(j, mean) for j in range(x))) if x > 0 else 0.0
        density = math.exp(
            r * math.log(alpha) + (r - 1) * math.log(rate) - alpha * rate - math.lgamma(r)
            + (a - 1) * math.log(p) + (b - 1) * math.log1p(-p) - log_beta
        )  # fmt: skip
        return (alive + dropped) * density

    # Rates beyond the Gamma's 1 − 1e-14 quantile carry no weight the comparison could see.
    highest_rate = float(stats.gamma.ppf(1 - 1e-14, r, scale=1 / alpha))
    value, _error = integrate.dblquad(given, 0, 1, 0, highest_rate, epsabs=1e-12, epsrel=1e-9)
    return float(value)


@pytest.mark.parametrize(
    ("params", "t"), [(BgNbdParams(2.5, 12.0, 3.0, 2.4), 20.0), (BgNbdParams(1.3, 4.0, 2.0, 5.0), 9.0)], ids=["a", "b"]
)
def test_the_pmf_matches_a_numerical_integration_of_the_individual_model(params: BgNbdParams, t: float):
    closed_form = pmf(params, np.arange(6, dtype=float), np.array([t]))[0]

    for x in range(6):
        assert closed_form[x] == pytest.approx(_brute_force(params, x, t), rel=1e-6, abs=1e-10)


def test_expected_counts_add_up_to_the_customers_and_weight_equal_tenures_once():
    tenures = np.array([10.0, 100.0, 400.0])
    counts = np.array([5.0, 3.0, 2.0])

    grouped = expected_customers(DAYS, tenures, counts)
    one_by_one = sum(expected_customers(DAYS, np.array([t]), np.array([1.0])) for t in np.repeat(tenures, [5, 3, 2]))

    assert grouped.sum() == pytest.approx(10.0)
    assert grouped == pytest.approx(one_by_one)
    assert grouped.size == 8


def test_actual_counts_put_seven_or_more_repeats_in_the_last_bucket():
    actual = actual_customers(np.array([0, 1, 3, 7, 12, 40]), np.array([10, 4, 2, 1, 1, 1]))

    assert actual.tolist() == [10, 4, 0, 2, 0, 0, 0, 3]


def test_on_cdnow_the_published_fit_tracks_the_actual_repeat_purchases():
    """FHL 2005 fig. 4: with the published parameters the expected histogram of calibration-period repeat
    transactions follows the actual one bar by bar."""
    x, _t_x, T, _m = calibration_summary()
    tenures, counts = np.unique(T, return_counts=True)

    expected = expected_customers(CDNOW, tenures, counts.astype(np.float64))
    actual = actual_customers(x.astype(np.int64), np.ones_like(x))

    assert actual.tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert expected.sum() == pytest.approx(2357)
    assert expected == pytest.approx(actual, rel=0.15)
    assert expected[0] == pytest.approx(1411, rel=0.01)
