"""RFM quintile scores and the named RF segment of every customer.

Recency, frequency and monetary value are each scored 1–5 by where the customer stands in the whole base
(Hughes 1994, "Strategic Database Marketing"; the quintile form used by most RFM tools), and the (R, F) pair is
named by the 5×5 segment map that circulates in most RFM tutorials (ten segments by R and F score ranges), with
the eleventh segment of Putler's list, Lost, in the corner cell R = 1, F = 1.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scoring.engine.summary import codes

Array = NDArray[np.float64]
Scores = NDArray[np.int64]

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
# English names and what to do with each segment, for the page that shows the owner the map; the Django layer
# translates them through its own choices.
SEGMENT_LABELS: dict[str, str] = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalists": "Potential loyalists",
    "new": "New",
    "promising": "Promising",
    "need_attention": "Need attention",
    "about_to_sleep": "About to sleep",
    "at_risk": "At risk",
    "cant_lose": "Can't lose them",
    "hibernating": "Hibernating",
    "lost": "Lost",
}
SEGMENT_ADVICE: dict[str, str] = {
    "champions": "Bought recently and often: reward them, ask for reviews and referrals.",
    "loyal": "Buy often: offer loyalty tiers and early access.",
    "potential_loyalists": "Recent, a few orders: a membership or bundle can make them loyal.",
    "new": "First order just now: a good first delivery and a welcome series.",
    "promising": "Recent, one order: build the habit with a second-order offer.",
    "need_attention": "Middling on both: a limited-time offer before they slip.",
    "about_to_sleep": "Going quiet after few orders: remind them with bestsellers.",
    "at_risk": "Bought often, but long ago: a personal win-back offer.",
    "cant_lose": "Were among the best, now silent: call them, make a strong win-back offer.",
    "hibernating": "Long ago and rarely: a low-cost reactivation at most.",
    "lost": "Longest ago, one order: do not spend on them.",
}
# The RF map: row = recency score − 1 (row 0 bought longest ago), column = frequency score − 1 (column 0 bought
# fewest times). Read as text "R F": 11 lost; 12, 21, 22 hibernating; 13, 14, 23, 24 at risk; 15, 25 can't lose
# them; 31, 32 about to sleep; 33 need attention; 34, 35, 44, 45 loyal; 41 promising; 42, 43, 52, 53 potential
# loyalists; 51 new; 54, 55 champions.
RF_MAP: tuple[tuple[str, ...], ...] = (
    ("lost", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
)


def quintile_scores(values: Array, higher_is_better: bool = True) -> Scores:
    """Scores 1–5: 1 + ⌊5 × the share of customers with a strictly worse value⌋.

    Customers with equal values always share a score, so the result never depends on row order. Counting only
    the strictly worse keeps the bottom of a heavily tied base at 1: when 70% of customers bought once they all
    score F = 1 (and land in New, Promising, About to sleep, Hibernating or Lost, as the map intends), instead of
    being lifted to the middle by an average rank. Scores that no customer reaches are simply skipped, which is
    what ties force; with distinct values every score is used once the base has five customers."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.all(np.isfinite(values)):
        raise ValueError("quintile scores need finite values")
    # Rank codes of the distinct values, then how many customers hold each: counting, not a per-row sort, which
    # matters on a million rows of whole days and order counts.
    value_codes, distinct = codes(values)
    holders = np.bincount(value_codes, minlength=distinct)
    at_or_below = np.cumsum(holders)
    worse = (at_or_below - holders) if higher_is_better else (values.size - at_or_below)
    return (1 + (5 * worse[value_codes]) // values.size).astype(np.int64)


def rfm_scores(recency_days: Array, frequency: Array, monetary: Array) -> tuple[Scores, Scores, Scores]:
    """(R, F, M) quintile scores: fewer days since the last order, more orders and a higher average order value
    score higher."""
    return (
        quintile_scores(recency_days, higher_is_better=False),
        quintile_scores(frequency),
        quintile_scores(monetary),
    )


def rf_segments(recency_score: Scores, frequency_score: Scores) -> NDArray[np.str_]:
    """The segment key of each customer from the RF map."""
    recency_score, frequency_score = np.asarray(recency_score), np.asarray(frequency_score)
    if np.any((recency_score < 1) | (recency_score > 5) | (frequency_score < 1) | (frequency_score > 5)):
        raise ValueError("R and F scores must be between 1 and 5")
    return np.array(RF_MAP)[recency_score - 1, frequency_score - 1]


def segment_map() -> list[dict[str, object]]:
    """The map as rows for a page, best recency first: each cell with its scores, key, label and advice."""
    return [
        {
            "recency": recency,
            "cells": [
                {
                    "recency": recency,
                    "frequency": frequency,
                    "segment": RF_MAP[recency - 1][frequency - 1],
                    "label": SEGMENT_LABELS[RF_MAP[recency - 1][frequency - 1]],
                    "advice": SEGMENT_ADVICE[RF_MAP[recency - 1][frequency - 1]],
                }
                for frequency in range(1, 6)
            ],
        }
        for recency in range(5, 0, -1)
    ]
