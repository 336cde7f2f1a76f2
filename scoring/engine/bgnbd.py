"""BG/NBD: who is still a customer and how often they will buy.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting your customers' the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2), 275–284 (below: FHL 2005). Equation numbers refer to that paper; the
log-sum-exp form of the likelihood follows Fader & Hardie (2013), "Overcoming the BG/NBD model's #NUM! error
problem", and P(alive) Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model".

Each customer is summarised by x (repeat transactions), t_x (time of the last one, counted from the first) and T
(time since the first), all in one unit (days or weeks). Identical summaries may be given once with a weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, gammaln, hyp2f1, psi

from scoring.engine.optimise import dot, minimise_on_log_scale
from scoring.engine.summary import check_summaries, codes, collapse

Array = NDArray[np.float64]

# The cap on a and b when customers all leave at about the same rate (see :func:`fit`): high enough that the
# Beta's spread is negligible (about 0.03 around p = 0.3) and the likelihood within a unit or two of the limit's
# on 20,000 customers, low enough that scipy's hyp2f1 stays accurate over every horizon the score asks for.
DROPOUT_CAP = 300.0


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def as_array(self) -> Array:
        return np.array([self.r, self.alpha, self.a, self.b], dtype=np.float64)


@dataclass(frozen=True)
class BgNbdFit:
    """The maximum-likelihood estimate; ``message`` is the optimiser's own word, ``reason`` ours when it failed."""

    params: BgNbdParams
    log_likelihood: float
    iterations: int
    converged: bool
    message: str
    # The base's customers leave at about one rate (a and b capped together, see :func:`fit`).
    constant_dropout: bool = False


def log_likelihood_terms(params: Array, x: Array, t_x: Array, T: Array) -> tuple[Array, Array]:
    """Each customer's log-likelihood and its gradient with respect to (r, alpha, a, b), shape (n, 4).

    FHL 2005 eq. (6): L = A1·A2·(A3 + δ(x>0)·A4) with
    ln A1 = lnΓ(r+x) − lnΓ(r) + r·ln α,  ln A2 = lnΓ(a+b) + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x),
    ln A3 = −(r+x)·ln(α+T),  ln A4 = ln a − ln(b+x−1) − (r+x)·ln(α+t_x).
    A3 and A4 underflow for heavy buyers (x in the hundreds), so they are added in log space (Fader & Hardie
    2013); the gradient weights w3, w4 are their shares of the sum, A3/(A3+A4) and A4/(A3+A4).
    """
    r, alpha, a, b = params
    repeat = x > 0
    log_a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    log_a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    log_a3 = -(r + x) * np.log(alpha + T)
    # x = 0 has no A4; b + x − 1 is only evaluated where x ≥ 1, where it is ≥ b > 0.
    safe_b = np.where(repeat, b + x - 1, 1.0)
    gap = np.where(repeat, np.log(a) - np.log(safe_b) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)), -np.inf)
    ll = log_a1 + log_a2 + log_a3 + np.logaddexp(0.0, gap)
    w4 = expit(gap)
    w3 = expit(-gap)
    grad = np.empty((x.size, 4))
    grad[:, 0] = psi(r + x) - psi(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
    grad[:, 1] = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    grad[:, 2] = psi(a + b) - psi(a + b + x) + w4 / a
    grad[:, 3] = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - np.where(repeat, w4 / safe_b, 0.0)
    return ll, grad


class _Objective:
    """The weighted mean negative log-likelihood over log-parameters, and its gradient (FHL 2005 eq. 7).

    Written for a million rows: the gamma-function terms depend on x alone and are summed once per distinct x;
    ln(α+T) and 1/(α+T) are evaluated once per distinct time and gathered; every per-row step writes into
    buffers allocated once, because allocating a fresh array per operation costs more than the arithmetic.
    :func:`log_likelihood_terms` is the plain per-row form; the tests check that the two agree."""

    def __init__(self, x: Array, t_x: Array, T: Array, weights: Array) -> None:
        keep = weights > 0
        x, t_x, T, weights = x[keep], t_x[keep], T[keep], weights[keep]
        self.total = float(weights.sum())
        x_codes, distinct_x = codes(x)
        self.x_values = np.zeros(distinct_x)
        self.x_values[x_codes] = x
        self.x_weights = np.bincount(x_codes, weights=weights, minlength=distinct_x)
        # One table of the distinct times T and t_x take.
        time_codes, distinct_times = codes(np.concatenate([T, t_x]))
        self.times = np.zeros(distinct_times)
        self.times[time_codes] = np.concatenate([T, t_x])
        T_codes, t_x_codes = time_codes[: x.size], time_codes[x.size :]
        repeat = x > 0
        # −Σ w·(r+x)·ln(α+T) over everyone = −Σ_v ln(α+v)·(r·A_v + B_v), per distinct time v.
        self.A = np.bincount(T_codes, weights=weights, minlength=distinct_times)
        self.B = np.bincount(T_codes[repeat], weights=(weights * x)[repeat], minlength=distinct_times)
        # Repeat buyers also have A4, which needs a per-row log-sum-exp.
        self.rep_x = x[repeat]
        self.rep_w = weights[repeat]
        self.rep_x_codes = x_codes[repeat]
        self.rep_T_codes = T_codes[repeat]
        self.rep_t_x_codes = t_x_codes[repeat]
        size = self.rep_x.size
        self.buffers = [np.empty(size) for _ in range(5)]

    def __call__(self, log_params: Array) -> tuple[float, Array]:
        r, alpha, a, b = np.exp(log_params)
        xv, xw = self.x_values, self.x_weights
        # ln A1 + ln A2 per distinct x.
        value = xw @ (gammaln(r + xv) + gammaln(b + xv) - gammaln(a + b + xv))
        value += self.total * (-gammaln(r) + r * np.log(alpha) + gammaln(a + b) - gammaln(b))
        d_r = xw @ psi(r + xv) + self.total * (np.log(alpha) - psi(r))
        d_alpha = self.total * r / alpha
        d_a = self.total * psi(a + b) - xw @ psi(a + b + xv)
        d_b = xw @ (psi(b + xv) - psi(a + b + xv)) + self.total * (psi(a + b) - psi(b))
        # ln A3 for everyone, per distinct time.
        log_times = np.log(alpha + self.times)
        inverse_times = 1.0 / (alpha + self.times)
        coefficient = r * self.A + self.B
        value -= coefficient @ log_times
        d_r -= self.A @ log_times
        d_alpha -= coefficient @ inverse_times
        # ln(1 + A4/A3) for repeat buyers; gap = ln(A4/A3) = ln a − ln(b+x−1) + (r+x)·(ln(α+T) − ln(α+t_x)).
        shift, gap, small, share, scratch = self.buffers
        np.take(log_times, self.rep_T_codes, out=shift)
        np.take(log_times, self.rep_t_x_codes, out=scratch)
        shift -= scratch
        log_a4_over_a3 = np.log(a) - np.log(np.where(xv > 0, b + xv - 1, 1.0))
        np.add(self.rep_x, r, out=gap)
        gap *= shift
        np.take(log_a4_over_a3, self.rep_x_codes, out=scratch)
        gap += scratch
        # ln(1 + e^gap) = max(gap, 0) + ln(1 + e^−|gap|) and w4 = e^gap/(1 + e^gap), without overflow.
        np.abs(gap, out=small)
        np.negative(small, out=small)
        np.exp(small, out=small)
        np.add(small, 1.0, out=share)
        np.reciprocal(share, out=share)
        np.maximum(gap, 0.0, out=scratch)
        value += dot(self.rep_w, scratch)
        np.log1p(small, out=scratch)
        value += dot(self.rep_w, scratch)
        np.multiply(small, share, out=scratch)
        np.copyto(share, scratch, where=gap < 0)
        np.multiply(share, self.rep_w, out=small)  # w·w4 from here on
        weighted_w4 = small
        d_r += dot(weighted_w4, shift)
        per_x = np.bincount(self.rep_x_codes, weights=weighted_w4, minlength=xv.size)
        d_a += per_x.sum() / a
        d_b -= per_x[xv > 0] @ (1.0 / (b + xv[xv > 0] - 1))
        # −Σ w·w4·(r+x)·(1/(α+t_x) − 1/(α+T)).
        np.take(inverse_times, self.rep_t_x_codes, out=scratch)
        np.take(inverse_times, self.rep_T_codes, out=shift)
        scratch -= shift
        scratch *= weighted_w4
        d_alpha -= r * float(scratch.sum()) + dot(self.rep_x, scratch)

        gradient = np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])  # chain rule for log-params
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return float("inf"), np.zeros(4)
        return float(-value / self.total), -gradient / self.total


def fit(
    x: Array,
    t_x: Array,
    T: Array,
    weights: Array | None = None,
    initial: BgNbdParams | None = None,
    *,
    max_iterations: int = 1000,
) -> BgNbdFit:
    """Maximum-likelihood r, α, a, b (FHL 2005 eq. 7) by L-BFGS-B on log-parameters with the analytic gradient.

    ``weights`` count identical customers (see :func:`collapse_summaries`); the result is the same as fitting
    every customer separately. Raises ``ValueError`` on impossible summaries (t_x > T, negative values)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    weights = check_summaries(x, t_x, T, weights)
    if weights.sum() <= 0:
        raise ValueError("the BG/NBD fit needs at least one customer")
    objective = _Objective(x, t_x, T, weights)
    if initial is None:
        # Start where a Poisson rate would put the mean: r/α ≈ (x + 1)/T over the base, a = b = 1 (no view yet on
        # dropout). Scaling α to the time unit lets the same start serve days and weeks.
        mean_rate = dot(weights, x + 1) / max(dot(weights, T), 1e-9)
        start = np.array([1.0, float(np.clip(1.0 / max(mean_rate, 1e-9), 1e-3, 1e5)), 1.0, 1.0])
    else:
        start = initial.as_array()
    names = ("r", "alpha", "a", "b")
    optimum = minimise_on_log_scale(objective, start, names, max_iterations)
    constant_dropout = False
    a, b = optimum.params[2], optimum.params[3]
    if min(a, b) > DROPOUT_CAP:
        # Every customer leaves after a purchase with about the same probability p = a/(a+b): the likelihood keeps
        # rising, ever more slowly, as a and b grow together, and never peaks (the optimiser stops somewhere on
        # that ridge, converged or not). The limit is a sound model (a
        # Beta with a + b in the hundreds is a point mass for every practical purpose: its spread is about
        # √(p(1−p)/(a+b))), but the hypergeometric term of eq. 10 is not computable with a and b in the
        # hundreds of thousands. So the fit is repeated with a and b capped at DROPOUT_CAP and judged as usual.
        restart = np.array([optimum.params[0], optimum.params[1], DROPOUT_CAP * a / (a + b), DROPOUT_CAP * b / (a + b)])
        capped = minimise_on_log_scale(
            objective, restart, names, max_iterations, caps={"a": DROPOUT_CAP, "b": DROPOUT_CAP}
        )
        if capped.converged:
            optimum, constant_dropout = capped, True
    r, alpha, a, b = (float(v) for v in optimum.params)
    return BgNbdFit(
        params=BgNbdParams(r, alpha, a, b),
        log_likelihood=-optimum.mean_negative_log_likelihood * objective.total,
        iterations=optimum.iterations,
        converged=optimum.converged,
        message=optimum.message,
        constant_dropout=constant_dropout,
    )


def collapse_summaries(x: Array, t_x: Array, T: Array) -> tuple[Array, Array, Array, Array]:
    """(x, t_x, T, weights) of the distinct summaries, for :func:`fit` on a large base."""
    grouped = collapse(x, t_x, T)
    return grouped.columns[0], grouped.columns[1], grouped.columns[2], grouped.weights


def probability_alive(params: BgNbdParams, x: Array, t_x: Array, T: Array) -> Array:
    """P(alive | x, t_x, T) = 1 / (1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)) (Fader, Hardie & Lee 2008).

    Written as the logistic of minus the log of the second term, so that ((α+T)/(α+t_x))^(r+x), which overflows
    for a heavy buyer who went quiet, never has to be formed."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    safe_b = np.where(repeat, b + x - 1, 1.0)
    log_odds_dead = np.log(a) - np.log(safe_b) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def probability_no_purchase(params: BgNbdParams, t: float | Array, x: Array, t_x: Array, T: Array) -> Array:
    """P(X(T, T+t] = 0 | x, t_x, T): the probability that a customer makes no purchase in the next ``t`` periods.

    A customer who has left buys nothing; one still alive buys at their own rate λ until they leave, and under
    BG/NBD they can only leave straight after a purchase, so with no purchase in (T, T+t] they stay alive and
    P(none | λ, alive) = e^(−λt). Given the history and alive, λ ~ Gamma(r + x, α + T) (the likelihood of an alive
    customer is λ^x·e^(−λT)), and E[e^(−λt)] = ((α+T)/(α+T+t))^(r+x). Hence (the x-th special case of FHL 2005's
    P(X(t) = x | …) with zero purchases):

        P(none) = 1 − P(alive) + P(alive) · ((α+T)/(α+T+t))^(r+x).

    Unlike 1 − P(alive), which BG/NBD fixes at 0 for everyone who bought once, this grows with the time since a
    one-time buyer's purchase (their posterior rate shrinks as T grows) and is never 0 for a finite rate. The
    power is formed as an exponential of a difference of logarithms, so a heavy buyer never overflows it."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    alive = probability_alive(params, x, t_x, T)
    quiet = np.exp((params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + T + t)))
    return 1.0 - alive + alive * quiet


def _hypergeometric_tail(params: BgNbdParams, horizons: Array, x: Array, T: Array) -> Array:
    """((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z), z = t/(α+T+t), for each row and horizon (FHL 2005 eq. 10).

    Taken literally the power underflows and the 2F1 overflows once x is large (its series terms grow like
    ((r+x)(b+x)/(a+b+x−1))^n z^n). Euler's transformation 2F1(A, B; C; z) = (1−z)^(C−A−B)·2F1(C−A, C−B; C; z)
    absorbs the power exactly, leaving (1−z)^(a−1)·2F1(a+b−1−r, a−1; a+b+x−1; z): its upper parameters do not
    grow with x and its lower one does, so the series only gets easier for heavy buyers, and every factor is
    bounded for 0 ≤ z < 1. scipy's hyp2f1 is accurate on that form; the tests check it against mpmath.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = horizons[None, :] / (alpha + T[:, None] + horizons[None, :])
    c = (a + b + x - 1)[:, None]
    return np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)


def expected_given_alive_by_pair(
    params: BgNbdParams, horizons: Sequence[float] | Array, x: Array, T: Array
) -> tuple[Array, NDArray[np.int64]]:
    """E[Y(t) | x, t_x, T] / P(alive) per distinct (x, T) pair and horizon t, and each customer's pair
    (FHL 2005 eq. 10):

        (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x)·2F1(r+x, b+x; a+b+x−1; t/(α+T+t))].

    It depends on (x, T) only, and a base has few distinct pairs (tens of thousands for a million customers
    counted in days), so the hypergeometric function is evaluated once per pair. At a = 1 the expression is
    0/0; its limit is approached from a − 1 = 1e-7, where the rounding error of 1 − tail stays near 1e-9
    relative."""
    x, T = np.asarray(x, dtype=np.float64), np.asarray(T, dtype=np.float64)
    t = np.asarray(horizons, dtype=np.float64)
    pairs = collapse(x, T)
    pair_x, pair_T = pairs.columns
    a = params.a if abs(params.a - 1.0) >= 1e-7 else 1.0 + 1e-7
    tail = _hypergeometric_tail(BgNbdParams(params.r, params.alpha, a, params.b), t, pair_x, pair_T)
    head = ((a + params.b + pair_x - 1) / (a - 1))[:, None] * (1.0 - tail)
    # A rounding error can leave 1 − tail a hair below zero when t is tiny; no customer buys a negative amount.
    return np.maximum(head, 0.0), pairs.inverse


def expected_given_alive(params: BgNbdParams, horizons: Sequence[float] | Array, x: Array, T: Array) -> Array:
    """E[Y(t) | x, t_x, T] / P(alive) per customer and horizon, shape (customers, horizons)."""
    head, inverse = expected_given_alive_by_pair(params, horizons, x, T)
    return head[inverse]


def expected_transactions_over(
    params: BgNbdParams, horizons: Sequence[float] | Array, x: Array, t_x: Array, T: Array
) -> Array:
    """Expected transactions in the next t periods for several horizons t, shape (customers, horizons) (FHL 2005
    eq. 10): :func:`expected_given_alive` × P(alive)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    return expected_given_alive(params, horizons, x, T) * probability_alive(params, x, t_x, T)[:, None]


def expected_transactions(params: BgNbdParams, t: float, x: Array, t_x: Array, T: Array) -> Array:
    """Expected transactions in the next ``t`` periods per customer (FHL 2005 eq. 10)."""
    return expected_transactions_over(params, [t], x, t_x, T)[:, 0]


def expected_transactions_new_customer(params: BgNbdParams, t: float) -> float:
    """E[X(t)] for a customer just acquired, FHL 2005 eq. (9):
    (a+b−1)/(a−1)·[1 − (α/(α+t))^r·2F1(r, b; a+b−1; t/(α+t))]; a handy check of eq. 10 at x = t_x = T = 0."""
    return float(expected_transactions(params, t, np.zeros(1), np.zeros(1), np.zeros(1))[0])
