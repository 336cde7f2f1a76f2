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

from scoring.engine import bgnbd, checks, gamma_gamma, survival
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
# "Valuable and at risk": realised value at or above the base's 80th percentile, churn risk 50 % or more.
VALUABLE_QUANTILE = 0.8
AT_RISK = 0.5


@dataclass
class Model:
    """What a run learnt and what a single update reuses: the method, its parameters (with the churn horizon and,
    without the model, the shop's survival curve), the cut points, and the fallback's reason code."""

    method: str
    params: dict[str, Any]
    cut_points: dict[str, Any]
    fallback_reason: str = ""

    @property
    def horizon(self) -> int:
        return int(self.params.get("horizon_days", survival.DEFAULT_HORIZON_DAYS))

    def fall_back(self, reason: checks.Reason) -> None:
        """Turn into the RF fallback for ``reason``, keeping the horizon and the survival curve."""
        self.method, self.fallback_reason = "rf", reason[0]
        kept = ("horizon_days", "horizon_source", "gaps_observed", "survival")
        self.params = {key: value for key, value in self.params.items() if key in kept}
        self.params["fallback"] = reason[1]


def horizon_params(stats: Stats, today: int, owner_days: int | None) -> dict[str, Any]:
    """The churn horizon (the owner's, else the 80th percentile of the shop's gaps between purchases, else the
    default) and the shop's survival curve for the no-model churn risk, from the whole base's histograms."""
    gaps = stats.gaps
    observed = survival.gap_percentile(gaps)
    if owner_days is not None:
        days, source = owner_days, "owner"
    elif observed is not None:
        days, source = int(np.clip(observed, survival.MIN_HORIZON_DAYS, survival.MAX_HORIZON_DAYS)), "gaps"
    else:
        days, source = survival.DEFAULT_HORIZON_DAYS, "default"
    silences = np.bincount((today - stats.last_day).astype(np.int64), minlength=1)
    curve = survival.survival_curve(gaps, silences)
    return {
        "horizon_days": days,
        "horizon_source": source,
        "gap_percentile_days": observed,
        "gaps_observed": int(gaps.sum()),
        "survival": None if curve is None else [round(float(v), 6) for v in curve],
    }


def fit_model(stats: Stats, today: int, *, horizon_days: int | None = None) -> Model:
    """Fit on the distinct (x, t_x, T) summaries; fall back to RF quintiles, saying why, when the data or the fit
    do not allow the model. ``horizon_days``: the owner's churn horizon, if set."""
    x, t_x, T = stats.x, stats.last_day - stats.first_day, today - stats.first_day
    model = Model(method="bgnbd", params=horizon_params(stats, today, horizon_days), cut_points={})
    reason = checks.data_too_thin(x)
    if reason is None:
        keys_x, keys_t_x, keys_T, weights = bgnbd.collapse_summaries(x, t_x, T)
        fit = bgnbd.fit(keys_x, keys_t_x, keys_T, weights=weights)
        repeat = (x > 0) & (stats.repeat_average > 0)
        gg = gamma_gamma.fit(x[repeat], stats.repeat_average[repeat])
        reason = checks.fit_problem(fit, gg)
        if reason is None:
            model.params.update(
                {
                    "bgnbd": fit.params.as_dict(),
                    "bgnbd_log_likelihood": fit.log_likelihood,
                    "constant_dropout": fit.constant_dropout,
                    "gamma_gamma": gg.params.as_dict(),
                    "gamma_gamma_log_likelihood": gg.log_likelihood,
                    "distinct_summaries": int(keys_x.size),
                    "time_unit": "day",
                }
            )
            # The survival curve serves the fallback only; a fitted run keeps its parameters small.
            model.params["survival"] = None
            return model
    model.fall_back(reason)
    return model


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
    at_risk_valuable: np.ndarray

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
    then stores the cut points), else placed by the stored cut points (a single update). A full run whose model
    cannot predict every customer (a non-finite figure) falls back to RF scores, saying so."""
    recency = today - stats.last_day
    monetary = stats.total / stats.days
    margin = float(shop.gross_margin)
    figures = _model_figures(stats, model, today, shop) if model.method == "bgnbd" else {}
    if figures and learn_cut_points and not all(np.all(np.isfinite(v)) for v in figures.values()):
        model.fall_back(("predictions_not_finite", {}))
        figures = {}
    if figures:
        worth = figures["clv"]
        model_churn = figures["model_churn"]
    else:
        model_churn = _churn_without_model(model, recency)
        # The stand-in for expected future value without the model: the margin of an average order times the
        # chance that the customer buys within the horizon, by the shop's own history (or, with too few returns
        # to have one, halved for every horizon of silence).
        comes_back = np.where(np.isfinite(model_churn), 1.0 - model_churn, 0.5 ** (recency / model.horizon))
        worth = monetary * margin * comes_back
    if learn_cut_points:
        r = quintile_scores(recency, higher_is_better=False)
        f = quintile_scores(stats.days)
        m = quintile_scores(monetary)
        importance = importance_of(worth)
        model.cut_points = {
            "recency": _boundaries(-recency, r, range(1, 5)),
            "days": _boundaries(stats.days, f, range(1, 5)),
            "monetary": _boundaries(monetary, m, range(1, 5)),
            "importance": _boundaries(worth, importance, range(0, 100)),
            "valuable_total": float(np.quantile(stats.total, VALUABLE_QUANTILE)) if stats.size else 0.0,
        }
    else:
        cuts = model.cut_points
        r = _score_by(cuts["recency"], -recency)
        f = _score_by(cuts["days"], stats.days)
        m = _score_by(cuts["monetary"], monetary)
        importance = _score_by(cuts["importance"], worth, first=0)
    churn, reasons = churn_risk(stats, model_churn)
    figures["model_churn"] = model_churn
    valuable = stats.total >= model.cut_points.get("valuable_total", np.inf)
    at_risk_valuable = valuable & (np.nan_to_num(churn) >= AT_RISK)
    tiers = thresholds.tier_codes(importance)
    return Scored(stats, today, figures, r, f, m, importance, tiers, churn, reasons, at_risk_valuable)


def _model_figures(stats: Stats, model: Model, today: int, shop: ShopSettings) -> dict[str, np.ndarray]:
    """BG/NBD and Gamma-Gamma's figures per customer, churn risk over the run's horizon among them.

    A repeat buyer whose repeat orders were all free (a zero average, left out of the Gamma-Gamma fit, which
    needs positive values) is valued at 0 per future order: the model's population mean would credit them with
    money their own history says they do not pay."""
    params = bgnbd.BgNbdParams(**model.params["bgnbd"])
    x, t_x, T = stats.x, stats.last_day - stats.first_day, today - stats.first_day
    predicted = predict(
        params,
        gamma_gamma.GammaGammaParams(**model.params["gamma_gamma"]),
        x,
        t_x,
        T,
        stats.repeat_average,
        margin=float(shop.gross_margin),
        monthly_discount=float(shop.monthly_discount_rate),
    )
    free = (x > 0) & (stats.repeat_average <= 0)
    return {
        "p_alive": predicted.p_alive,
        "expected_30": predicted.expected[30],
        "expected_90": predicted.expected[90],
        "expected_365": predicted.expected[365],
        "expected_value": np.where(free, 0.0, predicted.expected_value),
        "clv": np.where(free, 0.0, predicted.clv),
        "model_churn": bgnbd.probability_no_purchase(params, float(model.horizon), x, t_x, T),
    }


def _churn_without_model(model: Model, recency: np.ndarray) -> np.ndarray:
    """The chance of no purchase within the horizon by the shop's own history (Kaplan–Meier over its gaps between
    purchases), or NaN everywhere when too few customers have come back to have one."""
    curve = model.params.get("survival")
    if not curve:
        return np.full(recency.size, np.nan)
    return survival.probability_no_return(np.asarray(curve, dtype=np.float64), recency, float(model.horizon))


def churn_risk(stats: Stats, model_churn: np.ndarray) -> tuple[np.ndarray, Categorical]:
    """The model's churn risk raised by recent returns and active signals (capped at 1), with a reason for each
    raise.

    Where there is no model figure (NaN: the model fell back and the shop has too few returns to estimate one), a
    customer with no return and no signal has no churn risk (NULL), and one with them gets the sum of their
    weights, so a complaint on a new shop still shows as a risk with its reason instead of vanishing. Reasons are
    stored as data (the signal's kind and detail, the count of returns) and put into words when shown, in the
    reader's language (``scoring.explain.reason_lines``); they are built once per run for the few who have one."""
    extra = RETURN_RISK * stats.returns
    at = np.searchsorted(stats.customer_id, np.fromiter(stats.signals, dtype=np.int64, count=len(stats.signals)))
    for index, signals in zip(at, stats.signals.values(), strict=True):
        extra[index] += sum(weight for _kind, _detail, weight in signals)
    churn = np.where(
        np.isfinite(model_churn),
        np.minimum(1.0, np.nan_to_num(model_churn) + extra),
        np.where(extra > 0, np.minimum(1.0, extra), np.nan),
    )
    codes = np.zeros(stats.size, dtype=np.int64)
    labels: list[Any] = [[]]
    for index in np.flatnonzero(extra > 0):
        labels.append(_reasons(int(stats.returns[index]), stats.signals.get(int(stats.customer_id[index]), [])))
        codes[index] = len(labels) - 1
    return churn, Categorical(codes, labels)


def _reasons(returns: int, signals: list[tuple[str, str, float]]) -> list[dict[str, Any]]:
    # Each reason carries what it added, so the card can show the model's figure and every addition apart.
    reasons: list[dict[str, Any]] = [
        {"signal": kind, "detail": detail, "weight": round(weight, 4)} for kind, detail, weight in signals
    ]
    if returns:
        reasons.append({"returns": returns, "weight": round(RETURN_RISK * returns, 4)})
    return reasons
