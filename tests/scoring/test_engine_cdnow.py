"""The fits reproduce the published CDNOW results (Fader, Hardie & Lee 2005) to three significant figures."""

import numpy as np
import pytest

from scoring.engine import bgnbd, gamma_gamma
from tests.scoring.cdnow import Summary, calibration_summary

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def three_figures(value: float, published: float) -> bool:
    """Equal when rounded to three significant figures: within half a unit of the third figure."""
    return abs(value - published) <= 0.5 * 10 ** (np.floor(np.log10(abs(published))) - 2)


@pytest.fixture(scope="module")
def cdnow() -> Summary:
    return calibration_summary()


def test_the_sample_has_2357_customers_and_1411_never_bought_again(cdnow: Summary) -> None:
    x, _, _, _ = cdnow
    assert x.size == 2357
    assert int((x == 0).sum()) == 1411


def test_bgnbd_fit_reproduces_the_published_parameters_and_log_likelihood(cdnow: Summary) -> None:
    x, t_x, T, _ = cdnow
    result = bgnbd.fit(x, t_x, T)
    assert result.converged and not result.constant_dropout
    for name, value in result.params.as_dict().items():
        assert three_figures(value, PUBLISHED_BGNBD[name]), (name, value)
    assert abs(result.log_likelihood - (-9582.4)) < 0.05


def test_gamma_gamma_fit_on_average_repeat_purchase_day_values_reproduces_the_published_parameters(
    cdnow: Summary,
) -> None:
    x, _, _, m = cdnow
    result = gamma_gamma.fit(x, m)
    assert result.converged and result.reason is None
    for name, value in result.params.as_dict().items():
        assert three_figures(value, PUBLISHED_GAMMA_GAMMA[name]), (name, value)


def test_collapsing_identical_customers_into_weights_gives_the_same_likelihood_and_fit(cdnow: Summary) -> None:
    x, t_x, T, _ = cdnow
    cx, ct_x, cT, weights = bgnbd.collapse_summaries(x, t_x, T)
    assert cx.size < x.size / 2 and weights.sum() == x.size
    # The same likelihood at any parameters (not just at the optimum the optimiser happens to stop at).
    somewhere = np.log([0.5, 10.0, 1.2, 3.0])
    full_value, full_gradient = bgnbd._Objective(x, t_x, T, np.ones_like(x))(somewhere)
    collapsed_value, collapsed_gradient = bgnbd._Objective(cx, ct_x, cT, weights)(somewhere)
    assert np.isclose(full_value, collapsed_value, rtol=1e-12)
    assert np.allclose(full_gradient, collapsed_gradient, rtol=1e-10)
    full = bgnbd.fit(x, t_x, T)
    collapsed = bgnbd.fit(cx, ct_x, cT, weights=weights)
    assert np.allclose(full.params.as_array(), collapsed.params.as_array(), rtol=1e-5)
    assert np.isclose(full.log_likelihood, collapsed.log_likelihood, rtol=1e-10)


def test_a_fit_stopped_after_two_iterations_reports_that_it_did_not_converge(cdnow: Summary) -> None:
    x, t_x, T, _ = cdnow
    result = bgnbd.fit(x, t_x, T, max_iterations=2)
    assert not result.converged
    assert "ITERATIONS" in result.message
