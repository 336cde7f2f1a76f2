"""Importance 0–100, its tier, and the one line that explains it.

Importance is the percentile rank of a customer's worth, predicted 12-month CLV plus value already realised:
"Top 3%" reads the same to an operator whether the shop sells coffee or sofas, and adding realised value keeps a
big spender who just bought (and whom the model still doubts) from ranking below a stranger.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def __post_init__(self) -> None:
        if not 0 <= self.medium <= self.high <= self.vip <= 100:
            raise ValueError("tier thresholds must satisfy 0 ≤ medium ≤ high ≤ vip ≤ 100")


def importance(predicted: Array, realised: Array) -> NDArray[np.int64]:
    """Percentile rank 0–100 of predicted + realised value: 100 × (customers below + half the ties) / all,
    rounded half up (the mid-rank percentile, so equal worth gives equal importance whatever the row order)."""
    worth = np.asarray(predicted, dtype=np.float64) + np.asarray(realised, dtype=np.float64)
    if worth.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.all(np.isfinite(worth)):
        raise ValueError("importance needs finite values")
    ranks = rankdata(worth, method="average")
    return np.clip(np.floor((ranks - 0.5) / worth.size * 100 + 0.5), 0, 100).astype(np.int64)


def tiers(scores: NDArray[np.int64], thresholds: TierThresholds | None = None) -> NDArray[np.str_]:
    """The tier key ("vip", "high", "medium", "low") of each importance score."""
    thresholds = thresholds or TierThresholds()
    return np.select(
        [scores >= thresholds.vip, scores >= thresholds.high, scores >= thresholds.medium],
        ["vip", "high", "medium"],
        default="low",
    )


def top_share(score: int) -> int:
    """“Top N%” for a score: a customer at 97 is in the top 3%; nobody is in the top 0%."""
    return max(1, 100 - int(score))


@dataclass(frozen=True)
class Phrases:
    """The pieces of the explanation line, English by default; the Django layer passes translated ones (each a
    callable so that plural forms and number formats stay the translator's business)."""

    top: Callable[[int], str] = lambda share: f"Top {share}%"
    transactions: Callable[[int], str] = lambda count: f"{count} order" if count == 1 else f"{count} orders"
    predicted: Callable[[str], str] = lambda money: f"predicted {money} next 12 months"
    churn: Callable[[int], str] = lambda percent: f"churn risk {percent}%"
    fallback: str = "model not fitted: RF scores only"
    separator: str = " · "


def explanation(
    *,
    importance: int,
    transactions: int,
    clv: float | None,
    churn_risk: float | None,
    format_money: Callable[[float], str] = lambda value: f"{value:,.0f}",
    phrases: Phrases | None = None,
) -> str:
    """One line a person reads in a second: "Top 3% · 14 orders · predicted 48,200 ₽ next 12 months · churn risk
    62%". ``clv`` and ``churn_risk`` are ``None`` when the model fell back to RF quintiles, and the line says so;
    ``format_money`` renders the amount with its currency in the reader's locale."""
    words = phrases or Phrases()
    parts = [words.top(top_share(importance)), words.transactions(transactions)]
    if clv is not None:
        parts.append(words.predicted(format_money(clv)))
    if churn_risk is not None:
        parts.append(words.churn(round(churn_risk * 100)))
    else:
        parts.append(words.fallback)
    return words.separator.join(parts)
