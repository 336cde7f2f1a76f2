"""How well the fitted BG/NBD model describes the shop's own customers: expected versus actual number of customers
by number of repeat transactions (Fader, Hardie & Lee 2005, "Counting your customers the easy way", fig. 4).

For a customer first seen T periods ago the model gives P(X(T) = x | r, α, a, b), FHL 2005 eq. (8):

    P(X(t) = x) = B(a, b+x)/B(a, b) · Γ(r+x)/(Γ(r)·x!) · (α/(α+t))^r · (t/(α+t))^x
                + δ(x>0) · B(a+1, b+x−1)/B(a, b) · [1 − (α/(α+t))^r · Σ_{j<x} Γ(r+j)/(Γ(r)·j!) · (t/(α+t))^j]

The bracket is the upper tail of a negative binomial with r successes and success probability α/(α+t), which is the
regularised incomplete beta function I_{t/(α+t)}(x, r): computed directly rather than as 1 − a sum, so it keeps
its precision when it is tiny. The expected count of customers with x repeats is the pmf summed over customers,
and since it depends on T only, over the distinct tenures with their counts: a few hundred evaluations for a
million customers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import betainc, betaln, gammaln, xlogy

from scoring.engine.bgnbd import BgNbdParams

Array = NDArray[np.float64]

# The plot's last bar collects everybody with this many repeat transactions or more, as in FHL 2005 fig. 4.
DEFAULT_LAST_BUCKET = 7


def pmf(params: BgNbdParams, x: Array, t: Array) -> Array:
    """P(X(t) = x) for every t (rows) and x (columns), shape (len(t), len(x)); x whole numbers ≥ 0, t ≥ 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=np.float64)[None, :]
    t = np.asarray(t, dtype=np.float64)[:, None]
    if np.any(x < 0) or np.any(t < 0):
        raise ValueError("x and t must not be negative")
    stay = t / (alpha + t)  # 1 − the negative binomial's success probability
    log_beta_ab = betaln(a, b)
    log_still_alive = (
        betaln(a, b + x)
        - log_beta_ab
        + gammaln(r + x)
        - gammaln(r)
        - gammaln(x + 1)
        + r * (np.log(alpha) - np.log(alpha + t))
        # xlogy: 0·ln 0 = 0, so t = 0 (a customer first seen today) gives P(X = 0) = 1 without a warning.
        + xlogy(x, stay)
    )
    repeat = x > 0
    safe_x = np.where(repeat, x, 1.0)
    dropped = np.exp(betaln(a + 1, np.where(repeat, b + x - 1, b)) - log_beta_ab) * betainc(safe_x, r, stay)
    return np.exp(log_still_alive) + np.where(repeat, dropped, 0.0)


def expected_customers(
    params: BgNbdParams, tenures: Array, counts: Array, last_bucket: int = DEFAULT_LAST_BUCKET
) -> Array:
    """Expected number of customers with 0, 1, …, ``last_bucket``−1 repeat transactions and, in the last place,
    ``last_bucket`` or more, given how many customers (``counts``) have each tenure (``tenures``)."""
    tenures = np.asarray(tenures, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    if tenures.shape != counts.shape:
        raise ValueError("tenures and counts must have the same shape")
    head = counts @ pmf(params, np.arange(last_bucket, dtype=np.float64), tenures)
    # The open bucket is the rest of the probability: Σ over x ≥ last_bucket without summing an infinite tail.
    tail = max(float(counts.sum() - head.sum()), 0.0)
    return np.append(head, tail)


def actual_customers(repeats: Array, counts: Array, last_bucket: int = DEFAULT_LAST_BUCKET) -> Array:
    """Actual number of customers with 0, 1, …, ``last_bucket``−1 repeat transactions and ``last_bucket`` or more,
    given how many customers (``counts``) have each number of repeats (``repeats``)."""
    repeats = np.asarray(repeats, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    if np.any(repeats < 0):
        raise ValueError("repeat transactions must not be negative")
    return np.bincount(np.minimum(repeats, last_bucket), weights=counts, minlength=last_bucket + 1).astype(np.float64)
