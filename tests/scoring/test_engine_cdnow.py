"""The fits reproduce the published CDNOW results (Fader, Hardie & Lee 2005) to three significant figures."""

import numpy as np
import pytest

from scoring.engine import bgnbd, gamma_gamma
from tests.scoring.cdnow import calibration_summary


def three_figures(value: float, published: float) -> bool:
    return abs(value - published) <= 0.5 * 10 ** (np.floor(np.log10(abs(published))) - 2)


@pytest.fixture(scope="module")
def cdnow():
    return calibration_summary()


def test_the_sample_has_2357_customers(cdnow):
    x, _, _, _ = cdnow
    assert x.size == 2357


def test_bgnbd_fit_reproduces_the_published_parameters(cdnow):
    x, t_x, T, _ = cdnow
    result = bgnbd.fit(x, t_x, T)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert result.converged
    for name, value in result.params.as_dict().items():
        assert three_figures(value, published[name]), (name, value)
    assert abs(result.log_likelihood - (-9582.4)) < 0.1


def test_gamma_gamma_fit_reproduces_the_published_parameters(cdnow):
    x, _, _, m = cdnow
    result = gamma_gamma.fit(x, m)
    published = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert result.converged
    for name, value in result.params.as_dict().items():
        assert three_figures(value, published[name]), (name, value)


def test_collapsing_identical_customers_into_weights_gives_the_same_fit(cdnow):
    x, t_x, T, _ = cdnow
    keys, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    collapsed = bgnbd.fit(keys[:, 0], keys[:, 1], keys[:, 2], weights=counts.astype(float))
    full = bgnbd.fit(x, t_x, T)
    assert np.allclose(list(collapsed.params.as_dict().values()), list(full.params.as_dict().values()), rtol=1e-4)
    assert keys.shape[0] < x.size
