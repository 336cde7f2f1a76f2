"""The backtest: fit the model on the history before a cut-off, predict the weeks after it, compare with what
happened. It is how the owner learns, on the shop's own orders, whether the score may be trusted.

The input is the purchase days the statistics scan already holds (customer, local day, value, sorted by customer
and day), so a backtest costs a split of arrays in memory, a second fit and one prediction pass, never a second
read of the orders. The cohort is every customer whose first purchase came before the cut-off; the holdout runs
from the cut-off (inclusive) to the end (exclusive). Figures, as the literature reports them (Fader, Hardie & Lee
2005, figures 3–4 and table 2):

- **repeat purchases**: actual purchase days of the cohort in the holdout against BG/NBD's expectation
  Σ E[Y(h) | x, t_x, T], in total and week by week (the tracking plot, from the cumulative expectation at each
  week's end);
- **conditional expectations**: customers grouped by their repeat purchases before the cut-off (0 … 6, 7+), the
  mean holdout purchases actual against predicted;
- **revenue captured**: the share of the holdout's revenue from the cohort that the top 5 % and 20 % brought,
  ranked by importance at the cut-off (predicted margin), against ranking by total spent and against random
  (which captures the share itself);
- **churn risk**: each cohort customer's probability of no purchase in the holdout, as the score computes it,
  against whether they bought: ROC AUC with its curve, mean predicted against the actual share, and the AUC of
  ranking by days since the last purchase alone for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from scoring.engine import bgnbd, checks, gamma_gamma
from scoring.engine.clv import predict

Array = NDArray[np.float64]

# The holdout's weeks, and the shares of the ranking the revenue capture reports.
WEEK_DAYS = 7
TOP_SHARES = (5, 20)
# Groups of the conditional-expectation table: 0 … 6 repeat purchases, then 7 or more.
CONDITIONAL_GROUPS = 8
# Below these a backtest says nothing reliable: too few customers to fit, too short a holdout to see returns.
MIN_COHORT = checks.MIN_CUSTOMERS
MIN_HOLDOUT_DAYS = 28
# The verdict: total predicted repeat purchases within this share of the actual, and churn risk ranking at least
# this well (0.5 is a coin; 0.7 is the usual floor for a ranking one acts on).
TOTAL_TOLERANCE = 0.2
MIN_AUC = 0.7
ROC_POINTS = 50


class Refused(ValueError):
    """A backtest that cannot be judged: a reason code and its figures (``scoring.explain.reason_sentence``)."""

    def __init__(self, code: str, detail: dict[str, Any]) -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


@dataclass
class Split:
    """The cohort's calibration summaries and what each customer did in the holdout, in customer order."""

    x: Array
    t_x: Array
    T: Array
    repeat_average: Array
    spent: Array
    holdout_purchases: Array
    holdout_value: Array
    # The cohort's holdout purchase days per week of the holdout.
    weekly: NDArray[np.int64]
    holdout_days: int


def split_history(customers: NDArray[np.int64], days: Array, values: Array, *, cutoff: int, end: int) -> Split:
    """Split purchase days (sorted by customer, then day; ``values`` each day's total) at ``cutoff`` (days since
    the epoch, the holdout's first day) for a holdout ending before ``end``."""
    before = days < cutoff
    c_customers, c_days, c_values = customers[before], days[before], values[before]
    starts: NDArray[np.int64] = (
        np.flatnonzero(np.concatenate([[True], c_customers[1:] != c_customers[:-1]]))
        if c_customers.size
        else np.zeros(0, dtype=np.int64)
    )
    ends = (np.concatenate([starts[1:], [c_customers.size]]).astype(np.int64) - 1)[: starts.size]
    ids = c_customers[starts]
    count = np.diff(np.concatenate([starts, [c_customers.size]])).astype(np.float64)
    spent = np.add.reduceat(c_values, starts) if starts.size else np.zeros(0)
    first_value = c_values[starts]
    x = count - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat_average = np.where(x > 0, (spent - first_value) / np.maximum(x, 1.0), 0.0)
    # The cohort's holdout days: customers found among the calibration ids.
    after = (days >= cutoff) & (days < end)
    h_customers, h_days, h_values = customers[after], days[after], values[after]
    at = np.minimum(np.searchsorted(ids, h_customers), max(ids.size - 1, 0))
    in_cohort = (ids[at] == h_customers) if ids.size else np.zeros(h_customers.size, dtype=bool)
    purchases = np.bincount(at[in_cohort], minlength=ids.size).astype(np.float64)
    value = np.bincount(at[in_cohort], weights=h_values[in_cohort], minlength=ids.size).astype(np.float64)
    weeks = max(1, -(-(end - cutoff) // WEEK_DAYS))
    weekly = np.bincount(((h_days[in_cohort] - cutoff) // WEEK_DAYS).astype(np.int64), minlength=weeks)[:weeks]
    return Split(
        x=x,
        t_x=c_days[ends] - c_days[starts],
        T=cutoff - c_days[starts],
        repeat_average=repeat_average,
        spent=spent,
        holdout_purchases=purchases,
        holdout_value=value,
        weekly=weekly,
        holdout_days=int(end - cutoff),
    )


def refusal(split: Split) -> tuple[str, dict[str, Any]] | None:
    """Why this split cannot be judged (a code and its figures), or ``None``."""
    if split.holdout_days < MIN_HOLDOUT_DAYS:
        return "holdout_too_short", {"days": split.holdout_days, "minimum": MIN_HOLDOUT_DAYS}
    thin = checks.data_too_thin(split.x)
    if thin is not None:
        return thin
    return None


def roc_auc(score: Array, positive: NDArray[np.bool_]) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random negative (ties half),
    by the Mann–Whitney rank sum."""
    positives, negatives = int(positive.sum()), int((~positive).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def roc_curve(score: Array, positive: NDArray[np.bool_], points: int = ROC_POINTS) -> list[list[float]]:
    """[false positive rate, true positive rate] pairs at up to ``points`` thresholds, from (0, 0) to (1, 1)."""
    order = np.argsort(-score, kind="stable")
    hits = np.cumsum(positive[order])
    misses = np.cumsum(~positive[order])
    positives, negatives = max(int(hits[-1]), 1), max(int(misses[-1]), 1)
    # Only where the score changes is a threshold; keep an even spread of them.
    change = np.flatnonzero(np.diff(score[order], append=-np.inf) != 0)
    chosen = change[np.unique(np.linspace(0, change.size - 1, min(points, change.size)).round().astype(np.int64))]
    curve = [[0.0, 0.0]] + [[float(misses[i] / negatives), float(hits[i] / positives)] for i in chosen]
    return [[round(a, 4), round(b, 4)] for a, b in curve]


def captured(ranking: Array, revenue: Array, share: int) -> float:
    """The share of ``revenue`` that the top ``share`` % by ``ranking`` brought (ties broken by position)."""
    total = float(revenue.sum())
    count = round(ranking.size * share / 100)
    if total <= 0 or count == 0:
        return 0.0
    top = np.argsort(-ranking, kind="stable")[:count]
    return float(revenue[top].sum() / total)


def _conditional(split: Split, predicted_each: Array) -> list[dict[str, Any]]:
    """Holdout purchases per customer, actual against predicted, by the number of calibration repeat purchases
    (the last group holds everyone with more): Fader, Hardie & Lee's conditional expectations check."""
    groups = np.minimum(split.x, CONDITIONAL_GROUPS - 1).astype(np.int64)
    in_group = np.bincount(groups, minlength=CONDITIONAL_GROUPS)
    actual_by_group = np.bincount(groups, weights=split.holdout_purchases, minlength=CONDITIONAL_GROUPS)
    predicted_by_group = np.bincount(groups, weights=predicted_each, minlength=CONDITIONAL_GROUPS)
    return [
        {
            "repeat_purchases": group,
            "customers": int(in_group[group]),
            "actual": round(float(actual_by_group[group] / in_group[group]), 3) if in_group[group] else None,
            "predicted": round(float(predicted_by_group[group] / in_group[group]), 3) if in_group[group] else None,
        }
        for group in range(CONDITIONAL_GROUPS)
    ]


def _churn(split: Split, no_purchase: Array) -> dict[str, Any]:
    did_not_buy = split.holdout_purchases == 0
    return {
        # None where it is undefined (everybody in the cohort bought again, or nobody did).
        "auc": _finite(roc_auc(no_purchase, did_not_buy)),
        "recency_auc": _finite(roc_auc(split.T - split.t_x, did_not_buy)),
        "predicted_share": round(float(no_purchase.mean()), 4),
        "actual_share": round(float(did_not_buy.mean()), 4),
        "roc": roc_curve(no_purchase, did_not_buy),
    }


def backtest(split: Split, *, margin: float, monthly_discount: float) -> dict[str, Any]:
    """Fit on the split's calibration summaries and compare with its holdout; the figures as plain numbers
    (JSON-ready). Raises ``ValueError`` when :func:`refusal` has a reason."""
    reason = refusal(split)
    if reason is not None:
        raise Refused(*reason)
    keys = bgnbd.collapse_summaries(split.x, split.t_x, split.T)
    fit = bgnbd.fit(keys[0], keys[1], keys[2], weights=keys[3])
    repeat = split.x > 0
    gg = gamma_gamma.fit(split.x[repeat], split.repeat_average[repeat])
    problem = checks.fit_problem(fit, gg)
    if problem is not None:
        raise Refused(*problem)
    weeks = split.weekly.size
    week_ends = np.minimum(np.arange(1, weeks + 1) * WEEK_DAYS, split.holdout_days).astype(np.float64)
    cumulative = bgnbd.expected_transactions_over(fit.params, week_ends, split.x, split.t_x, split.T)
    predicted_weekly = np.diff(cumulative.sum(axis=0), prepend=0.0)
    predicted_each = cumulative[:, -1]
    worth = predict(
        fit.params,
        gg.params,
        split.x,
        split.t_x,
        split.T,
        split.repeat_average,
        margin=margin,
        monthly_discount=monthly_discount,
    ).clv
    no_purchase = bgnbd.probability_no_purchase(fit.params, float(split.holdout_days), split.x, split.t_x, split.T)
    if not all(np.all(np.isfinite(v)) for v in (cumulative, worth, no_purchase)):
        raise Refused("predictions_not_finite", {})
    figures: dict[str, Any] = {
        "customers": int(split.x.size),
        "holdout_days": split.holdout_days,
        "params": fit.params.as_dict(),
        "repeat_purchases": {
            "actual": float(split.holdout_purchases.sum()),
            "predicted": round(float(predicted_each.sum()), 2),
        },
        "weekly": {"actual": split.weekly.tolist(), "predicted": [round(float(v), 2) for v in predicted_weekly]},
        "conditional": _conditional(split, predicted_each),
        "capture": [
            {
                "share": share,
                "importance": round(captured(worth, split.holdout_value, share), 4),
                "spent": round(captured(split.spent, split.holdout_value, share), 4),
                "random": share / 100,
            }
            for share in TOP_SHARES
        ],
        "churn": _churn(split, no_purchase),
    }
    figures["verdict"] = verdict(figures)
    return figures


def _finite(value: float) -> float | None:
    return round(value, 4) if np.isfinite(value) else None


def verdict(figures: dict[str, Any]) -> dict[str, Any]:
    """ "reliable", or "care" with the reasons (codes and figures) that failed."""
    problems: list[dict[str, Any]] = []
    actual, predicted = figures["repeat_purchases"]["actual"], figures["repeat_purchases"]["predicted"]
    if actual > 0 and abs(predicted - actual) / actual > TOTAL_TOLERANCE:
        problems.append({"code": "total_off", "error": round((predicted - actual) / actual, 3)})
    elif actual == 0:
        problems.append({"code": "no_repeat_purchases"})
    auc = figures["churn"]["auc"]
    if auc is None:
        problems.append({"code": "churn_unmeasured"})
    elif auc < MIN_AUC:
        problems.append({"code": "weak_churn_ranking", "auc": auc})
    top = figures["capture"][-1]
    if top["importance"] < top["spent"]:
        problems.append({"code": "ranking_below_spend", "share": top["share"]})
    return {"reliable": not problems, "problems": problems}
