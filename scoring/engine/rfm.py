"""RFM quintile scores and the named RF segment of every customer."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

Array = NDArray[np.float64]

SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)
# The RF map, recency score down (1 = longest ago), frequency score across (1 = fewest): the widely used 5×5 grid
# that names each cell by what a retention marketer would do with it.
RF_MAP: tuple[tuple[str, ...], ...] = (
    ("lost", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
)


def quintile_scores(values: Array, higher_is_better: bool = True) -> NDArray[np.int64]:
    """Scores 1–5 by rank among all customers; ties share a score (average rank), so a base where most customers
    bought once does not split identical customers across scores at random."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = rankdata(values if higher_is_better else -values, method="average")
    share = ranks / values.size
    return np.clip(np.ceil(share * 5), 1, 5).astype(np.int64)


def rf_segments(recency_score: NDArray[np.int64], frequency_score: NDArray[np.int64]) -> NDArray[np.str_]:
    grid = np.array(RF_MAP)
    return grid[recency_score - 1, frequency_score - 1]
