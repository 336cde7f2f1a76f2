"""Importance 0–100 and its tier: the percentile rank of predicted value plus value already realised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

Array = NDArray[np.float64]

TIERS = ("vip", "high", "medium", "low")


@dataclass(frozen=True)
class TierThresholds:
    """Lowest importance of each tier; the owner sets them."""

    vip: int = 95
    high: int = 80
    medium: int = 50


def importance(predicted: Array, realised: Array) -> NDArray[np.int64]:
    """0–100: the share of customers worth less (ties share their average rank)."""
    worth = predicted + realised
    if worth.size == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = rankdata(worth, method="average")
    return np.clip(np.floor((ranks - 0.5) / worth.size * 100 + 0.5), 0, 100).astype(np.int64)


def tiers(scores: NDArray[np.int64], thresholds: TierThresholds) -> NDArray[np.str_]:
    return np.select(
        [scores >= thresholds.vip, scores >= thresholds.high, scores >= thresholds.medium],
        ["vip", "high", "medium"],
        default="low",
    )


def top_share(score: int) -> int:
    """“Top N%” for a score: a customer at 97 is in the top 3%."""
    return max(1, 100 - int(score))
