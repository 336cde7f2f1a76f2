"""Predicted customer lifetime value: the expected margin of the next twelve months, discounted monthly, and the
one call that gives the Django layer every per-customer figure of the model.

CLV_12 = Σ_{m=1..12} E[transactions in month m] · E[value per transaction] · margin / (1 + d)^m, where the
transactions come from BG/NBD (Fader, Hardie & Lee 2005, Marketing Science, eq. 10, as differences of the
cumulative expectation at the ends of consecutive months) and the value from Gamma-Gamma (Fader, Hardie & Lee
2005, JMR, eq. 5); the two are independent by the Gamma-Gamma model's assumption, so their product is the
expected spend. A month's margin is discounted at its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scoring.engine.bgnbd import BgNbdParams, expected_given_alive_by_pair, probability_alive
from scoring.engine.gamma_gamma import GammaGammaParams, expected_average_value

Array = NDArray[np.float64]
DAYS_PER_MONTH = 365.25 / 12


def _month_ends(months: int, days_per_period: float) -> Array:
    return np.arange(1, months + 1, dtype=np.float64) * (DAYS_PER_MONTH / days_per_period)


def discounted_transactions(cumulative: Array, monthly_discount: float) -> Array:
    """Σ_{m=1..M} (E[Y(t_m)] − E[Y(t_{m−1})]) / (1 + d)^m from the expectations E[Y(t_m)] at the month ends."""
    months = cumulative.shape[1]
    per_month = np.diff(cumulative, axis=1, prepend=0.0)
    discount = (1.0 + monthly_discount) ** -np.arange(1, months + 1, dtype=np.float64)
    # Each month's increment is non-negative in exact arithmetic; the clip removes rounding noise only.
    return np.maximum(per_month, 0.0) @ discount


def predicted_clv(
    params: BgNbdParams,
    x: Array,
    t_x: Array,
    T: Array,
    value_per_transaction: Array,
    *,
    margin: float | Array,
    monthly_discount: float,
    months: int = 12,
    days_per_period: float = 1.0,
) -> Array:
    """Expected discounted margin of the next ``months`` months per customer, float64 (the caller rounds money).

    ``days_per_period`` says how many days one unit of the time axis of x, t_x and T is (1 for days, 7 for
    weeks); ``monthly_discount`` is the owner's rate per month (0.01 = 1%)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    head, inverse = expected_given_alive_by_pair(params, _month_ends(months, days_per_period), x, T)
    # P(alive) ≥ 0 multiplies every month alike, so the discounted sum can be taken per (x, T) pair first.
    per_pair = discounted_transactions(head, monthly_discount)
    return per_pair[inverse] * probability_alive(params, x, t_x, T) * value_per_transaction * margin


@dataclass(frozen=True)
class Predictions:
    """Per-customer figures, each a float64 array in the order of the input."""

    p_alive: Array
    # Expected transactions in the next N days, keyed by N.
    expected: dict[int, Array]
    # Expected value per future transaction (Gamma-Gamma); the population mean for customers with no repeat.
    expected_value: Array
    clv: Array


def predict(
    bgnbd_params: BgNbdParams,
    gamma_gamma_params: GammaGammaParams,
    x: Array,
    t_x: Array,
    T: Array,
    average_repeat_value: Array,
    *,
    margin: float | Array,
    monthly_discount: float,
    horizons_days: Sequence[int] = (30, 90, 365),
    months: int = 12,
    days_per_period: float = 1.0,
) -> Predictions:
    """Everything the score needs from the two models in one pass: P(alive), expected transactions over each
    horizon, expected value per transaction and 12-month CLV. One evaluation of the hypergeometric term per
    distinct (x, T) serves every horizon and every month.

    ``x``, ``t_x``, ``T`` as for the fit (in units of ``days_per_period`` days); ``average_repeat_value`` is the
    mean value of the repeat purchases (anything for x = 0); ``margin`` the gross margin as a fraction."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    horizons = np.array([days / days_per_period for days in horizons_days], dtype=np.float64)
    month_ends = _month_ends(months, days_per_period)
    head, inverse = expected_given_alive_by_pair(bgnbd_params, np.concatenate([horizons, month_ends]), x, T)
    p_alive = probability_alive(bgnbd_params, x, t_x, T)
    value = expected_average_value(gamma_gamma_params, x, np.asarray(average_repeat_value, dtype=np.float64))
    per_pair_clv = discounted_transactions(head[:, len(horizons) :], monthly_discount)
    return Predictions(
        p_alive=p_alive,
        expected={int(days): head[inverse, k] * p_alive for k, days in enumerate(horizons_days)},
        expected_value=value,
        clv=per_pair_clv[inverse] * p_alive * value * margin,
    )
