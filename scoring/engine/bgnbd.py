"""BG/NBD: who is still a customer and how often they will buy.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2). Equation numbers below refer to that paper.

Each customer is summarised by x (repeat transactions), t_x (time of the last one, from the first) and T (time
since the first). Identical summaries can be given once with a weight, which is how a base of a million customers
fits in well under a second: it has far fewer distinct (x, t_x, T) than customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, gammaln, hyp2f1, psi

Array = NDArray[np.float64]


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    log_likelihood: float
    iterations: int
    converged: bool
    message: str


def log_likelihood_terms(params: Array, x: Array, t_x: Array, T: Array) -> tuple[Array, Array]:
    """Each customer's log-likelihood (eq. 6, in the log-sum-exp form that stays finite for heavy buyers) and its
    gradient with respect to (r, alpha, a, b), shape (n, 4)."""
    r, alpha, a, b = params
    repeat = x > 0
    # A1 + A2: the NBD count part and the beta-geometric survival part that do not depend on t_x.
    base = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + T)  # still alive at T
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            repeat, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf
        )
    top = np.maximum(a3, a4)
    mix = top + np.log(np.exp(a3 - top) + np.exp(a4 - top))
    w3 = np.exp(a3 - mix)
    w4 = np.exp(a4 - mix)

    grad = np.empty((x.size, 4))
    grad[:, 0] = psi(r + x) - psi(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
    grad[:, 1] = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    grad[:, 2] = psi(a + b) - psi(a + b + x) + w4 / a
    with np.errstate(divide="ignore", invalid="ignore"):
        grad[:, 3] = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - np.where(repeat, w4 / (b + x - 1), 0.0)
    return base + mix, grad


def fit(x: Array, t_x: Array, T: Array, weights: Array | None = None, initial: BgNbdParams | None = None) -> BgNbdFit:
    """Maximum likelihood over log-parameters (so they stay positive) with the analytic gradient, L-BFGS-B."""
    weights = np.ones_like(x) if weights is None else weights
    total = weights.sum()
    start = (
        np.log([initial.r, initial.alpha, initial.a, initial.b])
        if initial
        else np.log([0.5, max(T.mean(), 1.0), 1.0, 1.0])
    )

    def objective(log_params: Array) -> tuple[float, Array]:
        params = np.exp(log_params)
        ll, grad = log_likelihood_terms(params, x, t_x, T)
        value = -(weights @ ll) / total
        gradient = -(weights @ grad) * params / total
        if not np.isfinite(value):
            return 1e10, np.zeros(4)
        return float(value), gradient

    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0)] * 4,
        options={"maxiter": 500, "gtol": 1e-9, "ftol": 1e-13},
    )
    r, alpha, a, b = np.exp(result.x)
    return BgNbdFit(
        params=BgNbdParams(float(r), float(alpha), float(a), float(b)),
        log_likelihood=float(-result.fun * total),
        iterations=int(result.nit),
        converged=bool(result.success),
        message=str(result.message),
    )


def probability_alive(params: BgNbdParams, x: Array, t_x: Array, T: Array) -> Array:
    """P(alive | x, t_x, T), eq. 13, as a logistic of a log-ratio so it never overflows."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore"):
        log_ratio = (
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(x > 0, expit(-log_ratio), 1.0)


def expected_transactions(params: BgNbdParams, t: float, x: Array, t_x: Array, T: Array) -> Array:
    """Expected transactions in the next ``t`` periods, eq. 10.

    The hypergeometric term there, ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z), overflows for heavy
    buyers; Euler's transformation turns it into (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters do
    not grow with x, so the series converges quickly and stays finite.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < 1e-7:  # removable singularity of eq. 10 at a = 1
        a = 1.0 + 1e-7
    z = t / (alpha + T + t)
    c = a + b + x - 1
    tail = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    head = (a + b + x - 1) / (a - 1) * (1 - tail)
    return np.maximum(head * probability_alive(params, x, t_x, T), 0.0)
