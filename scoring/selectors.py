"""Reads of the scoring app for its pages: the segment and tier aggregates, the runs, the model's fit check.

The aggregates scan the whole score table (half a second to a second on a million scores), yet they only
change when a run rewrites the table, when the owner moves the tier thresholds, or by a handful of rows when an
order rescoring one customer comes in. So they are cached under a key made of the last successful run and the
thresholds' last change, which a new run or new thresholds replace at once; the short lifetime bounds how long
single-customer updates stay out of the figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import Avg, Count, F, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scoring.backtests import backtest_latest
from scoring.engine import fit_check
from scoring.engine.bgnbd import BgNbdParams
from scoring.engine.rfm import segment_map
from scoring.explain import RISING
from scoring.models import Backtest, CustomerScore, ScoreSnapshot, ScoringRun, ScoringSettings, Segment, Tier
from shop.db import model_columns, model_from_row

AGGREGATE_CACHE_SECONDS = 300
ACTIVE_STATES = (ScoringRun.State.PENDING, ScoringRun.State.RUNNING)

# The engine keeps its advice in English; these are the same sentences for the translator to pick up.
SEGMENT_ADVICE_TRANSLATED = {
    "champions": _("Bought recently and often: reward them, ask for reviews and referrals."),
    "loyal": _("Buy often: offer loyalty tiers and early access."),
    "potential_loyalists": _("Recent, a few orders: a membership or bundle can make them loyal."),
    "new": _("First order just now: a good first delivery and a welcome series."),
    "promising": _("Recent, one order: build the habit with a second-order offer."),
    "need_attention": _("Middling on both: a limited-time offer before they slip."),
    "about_to_sleep": _("Going quiet after few orders: remind them with bestsellers."),
    "at_risk": _("Bought often, but long ago: a personal win-back offer."),
    "cant_lose": _("Were among the best, now silent: call them, make a strong win-back offer."),
    "hibernating": _("Long ago and rarely: a low-cost reactivation at most."),
    "lost": _("Longest ago, one order: do not spend on them."),
}

# One colour per segment, shared by the map and the charts: greens for the best, warm colours where money is at
# risk, greys for the customers not worth chasing.
SEGMENT_COLOURS = {
    "champions": "#198754",
    "loyal": "#20c997",
    "potential_loyalists": "#6fcf97",
    "new": "#0dcaf0",
    "promising": "#6ea8fe",
    "need_attention": "#ffc107",
    "about_to_sleep": "#fd9843",
    "at_risk": "#dc3545",
    "cant_lose": "#b02a37",
    "hibernating": "#adb5bd",
    "lost": "#6c757d",
}
# Names on the darker cells of the map are written in white.
DARK_SEGMENTS = frozenset({"champions", "at_risk", "cant_lose", "lost"})
TIER_COLOURS = {"vip": "#b02a37", "high": "#fd7e14", "medium": "#0dcaf0", "low": "#6c757d"}


@dataclass(frozen=True)
class GroupFigures:
    """One segment or tier: how many customers, their realised and predicted value, their average churn risk."""

    key: str
    kind: str
    customers: int
    customer_share: float
    total_value: Decimal
    value_share: float
    predicted_clv: Decimal | None
    churn_risk: float | None
    colour: str

    @property
    def label(self) -> str:
        """In the reader's language (the figures are cached and shared by readers of every language)."""
        return str((Segment if self.kind == "segment" else Tier)(self.key).label)

    @property
    def advice(self) -> str:
        return str(SEGMENT_ADVICE_TRANSLATED.get(self.key, ""))

    @property
    def churn_percent(self) -> int | None:
        return None if self.churn_risk is None else round(self.churn_risk * 100)


@dataclass(frozen=True)
class SegmentReport:
    segments: list[GroupFigures]
    tiers: list[GroupFigures]
    customers: int
    total_value: Decimal
    predicted_clv: Decimal | None
    run_id: int | None
    computed_at: datetime


def score_for_customer(customer_id: int) -> CustomerScore | None:
    """A customer's current score, or ``None`` before their first delivered order is scored: what the other apps
    (the card, the call centre, loyalty's quote) read instead of the score table."""
    return CustomerScore.objects.filter(customer_id=customer_id).first()


SCORE_PREFIX = "score_"


def score_columns() -> dict[str, Any]:
    """The customer's score row as columns of a composed read over customers (joined on their one-to-one
    ``score``); :func:`score_from_columns` reads it back."""
    return model_columns(CustomerScore, path="score", prefix=SCORE_PREFIX)


def score_from_columns(row: Mapping[str, Any]) -> CustomerScore | None:
    """The score a :func:`score_columns` read holds, ``None`` for a customer not scored yet."""
    if row[f"{SCORE_PREFIX}customer_id"] is None:
        return None
    return model_from_row(CustomerScore, row, prefix=SCORE_PREFIX)


def score_snapshots_for_customer(customer_id: int, *, limit: int | None = None) -> list[ScoreSnapshot]:
    """A customer's monthly score snapshots, oldest first; with ``limit``, only the newest ``limit`` months."""
    snapshots = ScoreSnapshot.objects.filter(customer_id=customer_id)
    if limit is None:
        return list(snapshots.order_by("month"))
    return list(snapshots.order_by("-month")[:limit])[::-1]


def last_succeeded_run() -> ScoringRun | None:
    return (
        ScoringRun.objects.filter(state=ScoringRun.State.SUCCEEDED)
        .order_by(F("finished_at").desc(nulls_last=True), "-pk")
        .first()
    )


def active_run() -> ScoringRun | None:
    """The run waiting or running now, if any (there is at most one: starting another is refused)."""
    return ScoringRun.objects.filter(state__in=ACTIVE_STATES).order_by("-created_at").first()


def recent_runs(limit: int = 20) -> QuerySet[ScoringRun]:
    return ScoringRun.objects.select_related("triggered_by").order_by("-created_at")[:limit]


def run_for_user(user: Any, pk: int) -> ScoringRun:
    """The one accessor for a run by id; the views that call it already required the capability."""
    return get_object_or_404(ScoringRun, pk=pk)


# A backtest waiting or running blocks the owner's next one. Nothing sweeps backtests whose message Redis lost or
# whose worker died, so one older than the task's hard time limit (30 minutes) and a margin no longer counts: the
# owner can start another instead of waiting for ever.
BACKTEST_ACTIVE_STATES = (Backtest.State.PENDING, Backtest.State.RUNNING)
BACKTEST_STALE_AFTER = timedelta(seconds=1800 + 300)


def active_backtest() -> Backtest | None:
    """The backtest waiting or running now, if any, unless it is stale (see above)."""
    return (
        Backtest.objects.filter(state__in=BACKTEST_ACTIVE_STATES, created_at__gte=timezone.now() - BACKTEST_STALE_AFTER)
        .order_by("-created_at")
        .first()
    )


def shown_backtest() -> Backtest | None:
    """The backtest the model page reports: the newest finished one that succeeded or was refused."""
    return backtest_latest()


def failed_backtest_after(shown: Backtest | None) -> Backtest | None:
    """The newest backtest, if it failed, or never finished (stale), after the one shown: the owner must see why,
    and that the figures below it are older."""
    newest = (
        Backtest.objects.exclude(
            state__in=BACKTEST_ACTIVE_STATES, created_at__gte=timezone.now() - BACKTEST_STALE_AFTER
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if newest is None or newest.state in (Backtest.State.SUCCEEDED, Backtest.State.REFUSED):
        return None
    if shown is not None and newest.created_at < shown.created_at:
        return None
    return newest


def backtest_for_user(user: Any, pk: int) -> Backtest:
    """The one accessor for a backtest by id; the views that call it already required the capability."""
    return get_object_or_404(Backtest, pk=pk)


_FIGURES = {
    "customers": Count("pk"),
    "total_value": Sum("total_value"),
    "predicted_clv": Sum("predicted_clv"),
    "churn_risk": Avg("churn_risk"),
}


def _grouped_by_each(columns: tuple[str, ...], figures: tuple[str, ...]) -> dict[str, dict[Any, dict[str, Any]]]:
    """``figures`` of the score table grouped by each of ``columns`` separately: {column: {value: {figure: …}}}.

    One GROUP BY per column: PostgreSQL runs each as a parallel aggregate. A single scan with GROUPING SETS was
    measured too (bench/scoring_pages.py): PostgreSQL 15 does not parallelise it, and on a million scores it took
    as long as the two parallel GROUP BYs together, so the plain ORM form stays."""
    result: dict[str, dict[Any, dict[str, Any]]] = {}
    for column in columns:
        rows = CustomerScore.objects.order_by().values(column).annotate(**{f: _FIGURES[f] for f in figures})
        result[column] = {row[column]: row for row in rows}
    return result


def _figures(
    kind: str, choices: list[str], grouped: dict[str, dict[str, Any]], colours: dict[str, str]
) -> list[GroupFigures]:
    customers = sum(row["customers"] for row in grouped.values())
    value = sum((row["total_value"] or Decimal(0) for row in grouped.values()), Decimal(0))
    result = []
    for key in choices:
        row = grouped.get(key, {})
        count = row.get("customers", 0)
        total = row.get("total_value") or Decimal(0)
        result.append(
            GroupFigures(
                key=key,
                kind=kind,
                customers=count,
                customer_share=100 * count / customers if customers else 0.0,
                total_value=total,
                value_share=float(100 * total / value) if value else 0.0,
                predicted_clv=row.get("predicted_clv"),
                churn_risk=row.get("churn_risk"),
                colour=colours[key],
            )
        )
    return result


def _aggregate_cache_key(run: ScoringRun | None, settings: ScoringSettings) -> str:
    return f"scoring:segments:{run.pk if run else 0}:{settings.updated_at.timestamp() if settings.updated_at else 0}"


def segment_report(settings: ScoringSettings | None = None) -> SegmentReport:
    """Customers, realised value (sum of delivered orders), predicted 12-month CLV and average churn risk per RF
    segment and per tier: one GROUP BY each over the score table, cached per run and thresholds (see above)."""
    run = last_succeeded_run()
    key = _aggregate_cache_key(run, settings or ScoringSettings.load())
    cached: SegmentReport | None = cache.get(key)
    if cached is not None:
        return cached
    grouped = _grouped_by_each(("segment", "tier"), tuple(_FIGURES))
    by_segment, by_tier = grouped["segment"], grouped["tier"]
    segments = _figures("segment", Segment.values, by_segment, SEGMENT_COLOURS)
    clv_values = [row["predicted_clv"] for row in by_segment.values() if row["predicted_clv"] is not None]
    report = SegmentReport(
        segments=segments,
        tiers=_figures("tier", Tier.values, by_tier, TIER_COLOURS),
        customers=sum(row.customers for row in segments),
        total_value=sum((row.total_value for row in segments), Decimal(0)),
        predicted_clv=sum(clv_values, Decimal(0)) if clv_values else None,
        run_id=run.pk if run else None,
        computed_at=timezone.now(),
    )
    cache.set(key, report, AGGREGATE_CACHE_SECONDS)
    return report


def rf_map() -> list[dict[str, Any]]:
    """The 5×5 RF map, best recency first, each cell with its segment's translated name, advice and colour."""
    rows = segment_map()
    for row in rows:
        for cell in row["cells"]:  # type: ignore[attr-defined]
            cell["label"] = Segment(cell["segment"]).label
            cell["advice"] = SEGMENT_ADVICE_TRANSLATED[cell["segment"]]
            cell["colour"] = SEGMENT_COLOURS[cell["segment"]]
            cell["text_class"] = "text-white" if cell["segment"] in DARK_SEGMENTS else "text-dark"
    return rows


@dataclass(frozen=True)
class FitCheck:
    """Expected (by the fitted BG/NBD) and actual number of customers by repeat transactions 0 … last+."""

    labels: list[str]
    expected: list[float]
    actual: list[int]
    run_id: int

    @property
    def rows(self) -> list[tuple[str, int, float]]:
        return list(zip(self.labels, self.actual, self.expected, strict=True))


def fit_check_for(run: ScoringRun, last_bucket: int = fit_check.DEFAULT_LAST_BUCKET) -> FitCheck | None:
    """The fit plot of a successful BG/NBD run on the customers in the score table (FHL 2005 fig. 4): the model's
    P(X(T) = x) summed over the customers, grouped by tenure T, against the actual repeat counts. None when the run
    fell back to RF scores. Two GROUP BYs over the score table, cached per run like the segment figures."""
    bgnbd = run.params.get("bgnbd") if run.method == "bgnbd" else None
    if not bgnbd:
        return None
    key = f"scoring:fit:{run.pk}:{last_bucket}"
    cached: FitCheck | None = cache.get(key)
    if cached is not None:
        return cached
    grouped = _grouped_by_each(("tenure_days", "transactions"), ("customers",))
    if not grouped["tenure_days"]:
        return None
    tenures = np.array([(key, row["customers"]) for key, row in grouped["tenure_days"].items()], dtype=np.float64)
    repeats = np.array([(key, row["customers"]) for key, row in grouped["transactions"].items()], dtype=np.float64)
    # The model is fitted in days; a run fitted in weeks (the literature's unit) gets its tenures in weeks.
    unit_days = 7.0 if run.params.get("time_unit") == "week" else 1.0
    params = BgNbdParams(**bgnbd)
    expected = fit_check.expected_customers(params, tenures[:, 0] / unit_days, tenures[:, 1], last_bucket)
    actual = fit_check.actual_customers(repeats[:, 0] - 1, repeats[:, 1], last_bucket)
    labels = [str(x) for x in range(last_bucket)] + [f"{last_bucket}+"]
    result = FitCheck(
        labels=labels,
        expected=[round(float(v), 1) for v in expected],
        actual=[int(v) for v in actual],
        run_id=run.pk,
    )
    cache.set(key, result, AGGREGATE_CACHE_SECONDS)
    return result


# --- Set-based reads for analytics' monthly aggregates: querysets or one SELECT, composed by the caller ----------


def score_value_rows() -> QuerySet[CustomerScore, Any]:
    """Every score as (customer_id, churn_risk, predicted_clv)."""
    return CustomerScore.objects.values("customer_id", "churn_risk", "predicted_clv")


def rising_churn_rows() -> QuerySet[CustomerScore, Any]:
    """Scores whose churn risk rose meaningfully (``RISING``) since last month's snapshot, as (customer_id,
    churn_risk, previous_churn_risk, predicted_clv, last_purchase)."""
    return CustomerScore.objects.filter(
        churn_risk__isnull=False,
        previous_churn_risk__isnull=False,
        churn_risk__gte=F("previous_churn_risk") + RISING,
    ).values("customer_id", "churn_risk", "previous_churn_risk", "predicted_clv", "last_purchase")


def scores_for_customers(customer_ids: list[int]) -> dict[int, CustomerScore]:
    """The scores of a page's customers, by customer id, each with its run (for the horizon)."""
    rows = CustomerScore.objects.filter(customer_id__in=customer_ids).select_related("run")
    return {score.customer_id: score for score in rows}


def snapshot_counts(*, since: date | None) -> QuerySet[ScoreSnapshot, Any]:
    """Customers per (month, segment, tier) in the monthly snapshots, for months on or after ``since`` (all when
    ``None``); the month filter is served by the BRIN index on month."""
    rows = ScoreSnapshot.objects.all()
    if since is not None:
        rows = rows.filter(month__gte=since)
    return rows.values("month", "segment", "tier").annotate(customers=Count("*")).order_by()


def snapshot_flows_select(*, since: date | None) -> tuple[str, list[Any]]:
    """One SELECT of (month, from_segment, to_segment, customers): each customer's segment at a month's snapshot
    against the month before (empty ``from_segment`` for a customer with no snapshot then), for months on or after
    ``since``. Raw SQL because the ORM cannot join the table to itself on the month before; a hash join reads each
    month once instead of one index probe per customer."""
    table = ScoreSnapshot._meta.db_table
    where, params = ("", []) if since is None else ("WHERE cur.month >= %s", [since])
    sql = (
        f"SELECT cur.month, COALESCE(prev.segment, '') AS from_segment, cur.segment AS to_segment, "  # noqa: S608
        f"COUNT(*) AS customers FROM {table} cur LEFT JOIN {table} prev "
        f"ON prev.customer_id = cur.customer_id AND prev.month = (cur.month - INTERVAL '1 month')::date "
        f"{where} GROUP BY 1, 2, 3"
    )
    return sql, params
