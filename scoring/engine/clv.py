"""Predicted customer lifetime value: the expected margin of the next twelve months, discounted monthly."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scoring.engine.bgnbd import BgNbdParams, expected_transactions

Array = NDArray[np.float64]
DAYS_PER_MONTH = 365.25 / 12


def predicted_clv(
    params: BgNbdParams,
    x: Array,
    t_x: Array,
    T: Array,
    value_per_transaction: Array,
    *,
    margin: float,
    monthly_discount: float,
    months: int = 12,
    days_per_period: float = 1.0,
) -> Array:
    """Σ over months m of (expected transactions in month m) × expected value × margin / (1 + d)^m.

    ``days_per_period`` says how many days one unit of x's time axis is (1 for days, 7 for weeks)."""
    month = DAYS_PER_MONTH / days_per_period
    cumulative = np.column_stack([expected_transactions(params, m * month, x, t_x, T) for m in range(1, months + 1)])
    per_month = np.diff(np.column_stack([np.zeros(x.size), cumulative]), axis=1)
    discount = (1.0 + monthly_discount) ** -np.arange(1, months + 1)
    return np.maximum(per_month @ discount, 0.0) * value_per_transaction * margin
