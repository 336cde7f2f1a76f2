"""Gamma-Gamma: how much a customer spends per transaction.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV: using iso-value curves for customer base
analysis", Journal of Marketing Research 42(4); Fader & Hardie (2013), "The Gamma-Gamma model of monetary value".
Fitted on repeat buyers' average repeat-transaction value m_x over x transactions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import gammaln, psi

Array = NDArray[np.float64]


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def population_mean(self) -> float:
        """E(Z) = p·gamma/(q-1): what a customer with no repeat history is expected to spend (q > 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("nan")


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float
    iterations: int
    converged: bool
    message: str


def log_likelihood_terms(params: Array, x: Array, m: Array) -> tuple[Array, Array]:
    """Each repeat buyer's log-likelihood of their average value (Fader & Hardie 2013, eq. 3) and its gradient
    with respect to (p, q, gamma)."""
    p, q, g = params
    px = p * x
    log_total = np.log(g + m * x)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_total
    )
    grad = np.empty((x.size, 3))
    grad[:, 0] = x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - log_total)
    grad[:, 1] = psi(px + q) - psi(q) + np.log(g) - log_total
    grad[:, 2] = q / g - (px + q) / (g + m * x)
    return ll, grad


def fit(x: Array, m: Array, weights: Array | None = None) -> GammaGammaFit:
    """Maximum likelihood on repeat buyers (x ≥ 1, m > 0), over log-parameters with the analytic gradient."""
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    weights = np.ones_like(x) if weights is None else weights[keep]
    total = weights.sum()

    def objective(log_params: Array) -> tuple[float, Array]:
        params = np.exp(log_params)
        ll, grad = log_likelihood_terms(params, x, m)
        value = -(weights @ ll) / total
        if not np.isfinite(value):
            return 1e10, np.zeros(3)
        return float(value), -(weights @ grad) * params / total

    start = np.log([1.0, 2.0, max(float(np.median(m)), 1.0)])
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0)] * 3,
        options={"maxiter": 500, "gtol": 1e-9, "ftol": 1e-13},
    )
    p, q, g = np.exp(result.x)
    return GammaGammaFit(
        params=GammaGammaParams(float(p), float(q), float(g)),
        log_likelihood=float(-result.fun * total),
        iterations=int(result.nit),
        converged=bool(result.success),
        message=str(result.message),
    )


def expected_average_value(params: GammaGammaParams, x: Array, m: Array) -> Array:
    """E(M | p, q, gamma, m_x, x) = (gamma + m_x·x)·p / (p·x + q - 1): a weighted mean of the population's and
    the customer's own average (Fader, Hardie & Lee 2005, eq. 5). No repeat history: the population mean."""
    p, q, g = params.p, params.q, params.gamma
    own = (g + m * x) * p / (p * x + q - 1)
    return np.where(x > 0, own, params.population_mean)
