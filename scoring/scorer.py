"""From statistics to scores: the fits of a run, and every customer's figures as whole columns.

A full run learns the model (BG/NBD and Gamma-Gamma on the distinct summaries, or the RF fallback) and the cut
points of the quintiles and percentiles; a single update places a customer by the stored cut points, which gives
exactly what a full run would have given that customer. Nothing here loops over customers in Python except for
the few who have a churn reason to spell out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.engine import bgnbd, checks, gamma_gamma
from scoring.engine.clv import predict
from scoring.engine.importance import TIERS, TierThresholds
from scoring.engine.importance import importance as importance_of
from scoring.engine.rfm import RF_MAP, quintile_scores
from scoring.pgcopy import Categorical
from scoring.statistics import Stats
from shop.models import ShopSettings

# Each return in the last 90 days adds this much churn risk (a dissatisfied customer the purchase model cannot
# see); signals carry their own weight.
RETURN_RISK = 0.1
SEGMENTS = [segment for row in RF_MAP for segment in row]


@dataclass
class Model:
    """What a run learnt and what a single update reuses."""

    method: str
    params: dict[str, Any]
    cut_points: dict[str, Any]
    fallback_reason: str = ""


def fit_model(stats: Stats, today: int) -> Model:
    """Fit on the distinct (x, t_x, T) summaries; fall back to RF quintiles, saying why, when the data or the fit
    do not allow the model."""
    x, t_x, T = stats.x, stats.last_day - stats.first_day, today - stats.first_day
    reason = checks.data_too_thin(x)
    if reason is None:
        keys_x, keys_t_x, keys_T, weights = bgnbd.collapse_summaries(x, t_x, T)
        fit = bgnbd.fit(keys_x, keys_t_x, keys_T, weights=weights)
        repeat = x > 0
        gg = gamma_gamma.fit(x[repeat], stats.repeat_average[repeat])
        reason = checks.fit_problem(fit, gg)
        if reason is None:
            return Model(
                method="bgnbd",
                params={
                    "bgnbd": fit.params.as_dict(),
                    "bgnbd_log_likelihood": fit.log_likelihood,
                    "gamma_gamma": gg.params.as_dict(),
                    "gamma_gamma_log_likelihood": gg.log_likelihood,
                    "distinct_summaries": int(keys_x.size),
                    "time_unit": "day",
                },
                cut_points={},
            )
    return Model(method="rf", params={}, cut_points={}, fallback_reason=reason or "")


def _boundaries(values: np.ndarray, scores: np.ndarray, levels: range) -> list[float]:
    """For each score in ``levels``, the largest value that scored at most it (−1e300 when none did): a later
    value scores ``levels.start`` + the number of boundaries it exceeds, exactly what the ranking gave the values
    already seen."""
    top = np.full(levels.stop - levels.start + 1, -np.inf)
    inside = (scores >= levels.start) & (scores <= levels.stop)
    np.maximum.at(top, scores[inside] - levels.start, values[inside])
    below = values[scores < levels.start]
    running = np.maximum.accumulate(np.concatenate([[below.max() if below.size else -np.inf], top]))[1:]
    return [float(v) if np.isfinite(v) else -1e300 for v in running[: len(levels)]]


def _score_by(bounds: list[float], values: np.ndarray, first: int = 1) -> np.ndarray:
    return first + np.searchsorted(np.array(bounds), values, side="left")


@dataclass
class Scored:
    """Every score column of the scored customers; ``churn`` is NaN where there is none."""

    stats: Stats
    today: int
    figures: dict[str, np.ndarray]
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    importance: np.ndarray
    tier: np.ndarray
    churn: np.ndarray
    reasons: Categorical

    @property
    def segment(self) -> Categorical:
        return Categorical((self.r - 1) * 5 + (self.f - 1), SEGMENTS)

    @property
    def tiers(self) -> Categorical:
        return Categorical(self.tier, TIERS)


def score(
    stats: Stats, model: Model, today: int, shop: ShopSettings, thresholds: TierThresholds, *, learn_cut_points: bool
) -> Scored:
    """Scores for the customers in ``stats``: ranked among themselves when ``learn_cut_points`` (a full run, which
    then stores the cut points), else placed by the stored cut points (a single update)."""
    recency = today - stats.last_day
    monetary = stats.total / stats.days
    figures: dict[str, np.ndarray] = {}
    margin = float(shop.gross_margin)
    if model.method == "bgnbd":
        predicted = predict(
            bgnbd.BgNbdParams(**model.params["bgnbd"]),
            gamma_gamma.GammaGammaParams(**model.params["gamma_gamma"]),
            stats.x,
            stats.last_day - stats.first_day,
            today - stats.first_day,
            stats.repeat_average,
            margin=margin,
            monthly_discount=float(shop.monthly_discount_rate),
        )
        figures = {
            "p_alive": predicted.p_alive,
            "expected_30": predicted.expected[30],
            "expected_90": predicted.expected[90],
            "expected_365": predicted.expected[365],
            "expected_value": predicted.expected_value,
            "clv": predicted.clv,
        }
    worth = figures.get("clv", 0.0) + stats.total * margin
    if learn_cut_points:
        r = quintile_scores(recency, higher_is_better=False)
        f = quintile_scores(stats.days)
        m = quintile_scores(monetary)
        importance = importance_of(worth, np.zeros(stats.size))
        model.cut_points = {
            "recency": _boundaries(-recency, r, range(1, 5)),
            "days": _boundaries(stats.days, f, range(1, 5)),
            "monetary": _boundaries(monetary, m, range(1, 5)),
            "importance": _boundaries(worth, importance, range(0, 100)),
        }
    else:
        cuts = model.cut_points
        r = _score_by(cuts["recency"], -recency)
        f = _score_by(cuts["days"], stats.days)
        m = _score_by(cuts["monetary"], monetary)
        importance = _score_by(cuts["importance"], worth, first=0)
    tier = np.select(
        [importance >= thresholds.vip, importance >= thresholds.high, importance >= thresholds.medium],
        [0, 1, 2],
        default=3,
    )
    churn, reasons = churn_risk(stats, figures.get("p_alive"))
    return Scored(stats, today, figures, r, f, m, importance, tier, churn, reasons)


def churn_risk(stats: Stats, p_alive: np.ndarray | None) -> tuple[np.ndarray, Categorical]:
    """1 − P(alive), raised by recent returns and active signals (capped at 1), with a reason for each raise.

    Without the model (RF fallback) there is no P(alive) to start from: a customer with no return and no signal
    has no churn risk (NULL, shown as "model not fitted"), and one with them gets the sum of their weights, so a
    complaint on a new shop still shows as a risk with its reason instead of vanishing. Reasons are stored as
    data (the signal's kind and detail, the count of returns) and put into words when shown, in the reader's
    language (``scoring.explain.reason_lines``); they are built once per run for the few who have one."""
    extra = RETURN_RISK * stats.returns
    at = np.searchsorted(stats.customer_id, np.fromiter(stats.signals, dtype=np.int64, count=len(stats.signals)))
    for index, signals in zip(at, stats.signals.values(), strict=True):
        extra[index] += sum(weight for _kind, _detail, weight in signals)
    if p_alive is not None:
        churn = np.minimum(1.0, 1.0 - p_alive + extra)
    else:
        churn = np.where(extra > 0, np.minimum(1.0, extra), np.nan)
    codes = np.zeros(stats.size, dtype=np.int64)
    labels: list[Any] = [[]]
    for index in np.flatnonzero(extra > 0):
        labels.append(_reasons(int(stats.returns[index]), stats.signals.get(int(stats.customer_id[index]), [])))
        codes[index] = len(labels) - 1
    return churn, Categorical(codes, labels)


def _reasons(returns: int, signals: list[tuple[str, str, float]]) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = [{"signal": kind, "detail": detail} for kind, detail, _weight in signals]
    if returns:
        reasons.append({"returns": returns})
    return reasons
