"""How long the shop's customers take to come back: the churn horizon, and the chance of no return without a model.

Both come from two histograms in whole days, which the statistics scan builds from every customer's purchase days:

- ``gaps[d]``: how many times a customer bought again exactly d days after a previous purchase day (each return
  is one observed gap);
- ``silences[d]``: how many customers have now been silent for exactly d days since their last purchase (a gap
  still open: they may come back later, so it is right-censored at d).

**Horizon.** Churn risk is "no purchase within the shop's horizon", the time in which most repeat buyers come back:
by default the 80th percentile of the observed gaps (80 % of returns came at most that many days after the
previous purchase), clipped to a week … a year, and the owner may set another.

**No return without a model.** When the base is too small for BG/NBD (a new shop), the chance that a customer
silent for r days makes no purchase in the next h days is read off the shop's own history by the Kaplan–Meier
estimator over the gaps, the open silences counted as censored: S(r + h) / S(r), where S(d) is the estimated
share of gaps longer than d days. Past the longest gap ever seen no customer of the shop has come back, so the
estimate stays flat there (no further return is expected); it needs ``MIN_GAPS`` observed returns.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

HORIZON_PERCENTILE = 80
MIN_HORIZON_DAYS = 7
MAX_HORIZON_DAYS = 365
# With fewer returns than this a percentile or a survival curve is mostly noise: the horizon takes its default
# and the no-model churn risk is not estimated.
MIN_GAPS = 20
DEFAULT_HORIZON_DAYS = 90


def gap_histogram(customers: NDArray[np.int64], days: Array) -> NDArray[np.int64]:
    """``gaps[d]`` from every customer's distinct purchase days, sorted by customer and then day."""
    if customers.size < 2:
        return np.zeros(1, dtype=np.int64)
    same = customers[1:] == customers[:-1]
    gaps = (days[1:] - days[:-1])[same].astype(np.int64)
    return np.bincount(gaps, minlength=1) if gaps.size else np.zeros(1, dtype=np.int64)


def gap_percentile(gaps: NDArray[np.int64]) -> int | None:
    """The 80th percentile of the observed gaps in days, as observed; ``None`` with fewer than ``MIN_GAPS``."""
    total = int(gaps.sum())
    if total < MIN_GAPS:
        return None
    # The smallest d with at least 80 % of the gaps at most d days long.
    return int(np.searchsorted(np.cumsum(gaps), HORIZON_PERCENTILE / 100 * total, side="left"))


def horizon_days(gaps: NDArray[np.int64]) -> int | None:
    """:func:`gap_percentile` clipped to 7…365 days: the horizon a run uses; ``None`` with too few gaps."""
    observed = gap_percentile(gaps)
    return None if observed is None else int(np.clip(observed, MIN_HORIZON_DAYS, MAX_HORIZON_DAYS))


def survival_curve(gaps: NDArray[np.int64], silences: NDArray[np.int64]) -> Array | None:
    """Kaplan–Meier S(d) for d = 0 … the longest gap or silence: the share of gaps longer than d days, the open
    silences censored. ``None`` with fewer than ``MIN_GAPS`` returns. A gap of 0 days cannot occur (one
    transaction a day), so S(0) = 1."""
    if int(gaps.sum()) < MIN_GAPS:
        return None
    size = max(gaps.size, silences.size)
    events = np.zeros(size)
    events[: gaps.size] = gaps
    censored = np.zeros(size)
    censored[: silences.size] = silences
    # At risk at d: every gap or silence at least d days long.
    at_risk = np.cumsum((events + censored)[::-1])[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(at_risk > 0, events / at_risk, 0.0)
    return np.cumprod(1.0 - hazard).astype(np.float64)


def probability_no_return(curve: Array, silent_days: Array, horizon: float) -> Array:
    """S(r + h) / S(r) for each customer silent r days: the chance of no purchase in the next ``horizon`` days,
    by the shop's own history. Beyond the curve's end S stays at its last value; where S(r) is already 0 (no gap
    ever lasted that long and everyone came back) the customer is past every return seen, and the chance is 1."""
    last = curve.size - 1
    now = curve[np.clip(silent_days.astype(np.int64), 0, last)]
    later = curve[np.clip((silent_days + horizon).astype(np.int64), 0, last)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(now > 0, np.clip(later / np.where(now > 0, now, 1.0), 0.0, 1.0), 1.0)
