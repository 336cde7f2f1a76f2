"""Gamma-Gamma: how much a customer spends per transaction.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV: using iso-value curves for customer base
analysis", Journal of Marketing Research 42(4); Fader & Hardie (2013), "The Gamma-Gamma model of monetary value".
Fitted on repeat buyers' average repeat-transaction value m_x over x transactions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln, psi

from scoring.engine.optimise import dot, minimise_on_log_scale
from scoring.engine.summary import codes

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

    @property
    def reason(self) -> str | None:
        return None if self.converged else f"the Gamma-Gamma fit did not converge: {self.message}"


def log_likelihood_terms(params: Array, x: Array, m: Array) -> tuple[Array, Array]:
    """Each repeat buyer's log-likelihood of their average value and its gradient with respect to (p, q, gamma).

    Fader & Hardie (2013) eq. (3), the density of the mean m_x of x transactions after integrating out ν:
    f(m_x | p, q, γ, x) = Γ(px+q)/(Γ(px)Γ(q)) · γ^q · m_x^(px−1) · x^(px) / (γ + m_x·x)^(px+q).
    """
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


class _Objective:
    """Mean negative log-likelihood over log-parameters and its gradient (Fader & Hardie 2013, eq. 3).

    The gamma functions depend on x alone and are summed once per distinct x; per customer only ln(γ + m_x·x)
    and 1/(γ + m_x·x) change between iterations, written into buffers allocated once, which keeps a fit on a
    million repeat buyers cheap. :func:`log_likelihood_terms` is the plain per-row form the tests compare."""

    def __init__(self, x: Array, m: Array, weights: Array) -> None:
        self.total = float(weights.sum())
        self.w = weights
        self.wx = weights * x
        self.mx = m * x
        x_codes, distinct = codes(x)
        self.x_values = np.zeros(distinct)
        self.x_values[x_codes] = x
        self.x_weights = np.bincount(x_codes, weights=weights, minlength=distinct)
        # Σ w·x·ln m, Σ w·ln m and Σ w·x·ln x do not depend on the parameters.
        log_m = np.log(m)
        self.wx_log_m = dot(self.wx, log_m)
        self.w_log_m = dot(weights, log_m)
        self.wx_log_x = float(self.x_weights @ (self.x_values * np.log(self.x_values)))
        self.buffer = np.empty(x.size)

    def __call__(self, log_params: Array) -> tuple[float, Array]:
        p, q, g = np.exp(log_params)
        xv, xw = self.x_values, self.x_weights
        pxv = p * xv
        np.add(self.mx, g, out=self.buffer)
        np.log(self.buffer, out=self.buffer)
        w_log_total = dot(self.w, self.buffer)
        wx_log_total = dot(self.wx, self.buffer)
        np.add(self.mx, g, out=self.buffer)
        np.reciprocal(self.buffer, out=self.buffer)
        w_inverse_total = dot(self.w, self.buffer)
        wx_inverse_total = dot(self.wx, self.buffer)
        value = (
            xw @ (gammaln(pxv + q) - gammaln(pxv))
            + self.total * (q * np.log(g) - gammaln(q))
            + p * (self.wx_log_m + self.wx_log_x - wx_log_total)
            - self.w_log_m
            - q * w_log_total
        )
        d_p = xw @ (xv * (psi(pxv + q) - psi(pxv))) + self.wx_log_m + self.wx_log_x - wx_log_total
        d_q = xw @ psi(pxv + q) + self.total * (np.log(g) - psi(q)) - w_log_total
        d_g = self.total * q / g - p * wx_inverse_total - q * w_inverse_total
        gradient = np.array([d_p, d_q, d_g]) * np.array([p, q, g])  # chain rule for log-parameters
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return float("inf"), np.zeros(3)
        return float(-value / self.total), -gradient / self.total


def fit(x: Array, m: Array, weights: Array | None = None, *, max_iterations: int = 1000) -> GammaGammaFit:
    """Maximum-likelihood p, q, γ on repeat buyers (x ≥ 1, m_x > 0), by L-BFGS-B on log-parameters with the
    analytic gradient. Customers with no repeat purchase, or a zero average, carry no information and are
    left out."""
    x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    if x.shape != m.shape or x.ndim != 1:
        raise ValueError("x and m must be one-dimensional arrays of the same length")
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = (x > 0) & (m > 0) & np.isfinite(m) & (weights > 0)
    x, m, weights = x[keep], m[keep], weights[keep]
    if x.size == 0:
        return GammaGammaFit(GammaGammaParams(1.0, 2.0, 1.0), float("nan"), 0, False, "no repeat buyers with a value")
    # Fit in units of the median average, so that γ starts near 1 whatever the currency (kopecks or dollars) and
    # never meets the search bounds; γ scales back exactly, p and q do not depend on the unit.
    # The median costs a partial sort; any typical value does, so a strided sample of at most 10,001 is enough.
    scale = float(np.median(m[:: max(1, m.size // 10_000)]))
    objective = _Objective(x, m / scale, weights)
    # Start from a population mean equal to the observed median: p·γ/(q−1) = 1 with p = 1, q = 2.
    start = np.array([1.0, 2.0, 1.0])
    optimum = minimise_on_log_scale(objective, start, ("p", "q", "gamma"), max_iterations)
    p, q, g = (float(v) for v in optimum.params)
    # The density of m is the density of m/scale divided by scale (a change of variable), once per customer.
    log_likelihood = -optimum.mean_negative_log_likelihood * objective.total - objective.total * np.log(scale)
    return GammaGammaFit(
        params=GammaGammaParams(p, q, g * scale),
        log_likelihood=float(log_likelihood),
        iterations=optimum.iterations,
        converged=optimum.converged,
        message=optimum.message,
    )


def expected_average_value(params: GammaGammaParams, x: Array, m: Array) -> Array:
    """E(M | p, q, gamma, m_x, x) = (gamma + m_x·x)·p / (p·x + q - 1): a weighted mean of the population's and
    the customer's own average (Fader, Hardie & Lee 2005, eq. 5). No repeat history: the population mean."""
    p, q, g = params.p, params.q, params.gamma
    own = (g + m * x) * p / (p * x + q - 1)
    return np.where(x > 0, own, params.population_mean)
