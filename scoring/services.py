"""Scoring runs: statistics from orders, the engine's fits and scores, bulk writes; and single-customer updates.

A full run reads every customer's statistics with one aggregate, fits BG/NBD and Gamma-Gamma on the distinct
summaries, scores everybody and writes all scores at once (COPY and one upsert on PostgreSQL). A changed order
rescores its customer with the last run's parameters and cut points, which gives exactly what a full run would
have given that customer.
"""

from __future__ import annotations

import io
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import Order, OrderStatus
from scoring.engine import bgnbd, checks, gamma_gamma
from scoring.engine.clv import predicted_clv
from scoring.engine.importance import TierThresholds, tiers
from scoring.engine.importance import importance as importance_of
from scoring.engine.rfm import quintile_scores, rf_segments
from scoring.models import ChurnSignal, CustomerScore, ScoringRun, ScoringSettings
from shop.models import ShopSettings

EPOCH = date(1970, 1, 1)
CENT = Decimal("0.01")
RETURN_WINDOW_DAYS = 90
RETURN_RISK = 0.1


@dataclass
class Stats:
    """Per customer: purchase days (x + 1), first and last purchase day (days since 1970), total value and the
    first day's value (so the repeat average leaves out the first purchase, as Gamma-Gamma wants)."""

    customer_id: np.ndarray
    days: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    total: np.ndarray
    first_value: np.ndarray
    recent_returns: dict[int, int] = field(default_factory=dict)

    @property
    def x(self) -> np.ndarray:
        return self.days - 1.0

    @property
    def repeat_average(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.x > 0, (self.total - self.first_value) / np.maximum(self.x, 1), 0.0)


def _local_day(moment: datetime, zone: ZoneInfo) -> int:
    return (moment.astimezone(zone).date() - EPOCH).days


def stats_from_orders(customer_ids: list[int] | None, zone: ZoneInfo) -> Stats:
    """The statistics computed in Python from the orders: the single-customer path, and the full run on SQLite."""
    orders = Order.objects.filter(status=OrderStatus.DELIVERED)
    if customer_ids is not None:
        orders = orders.filter(customer_id__in=customer_ids)
    per_customer: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for customer_id, placed_at, total in orders.values_list("customer_id", "placed_at", "total").iterator(
        chunk_size=5000
    ):
        per_customer[customer_id][_local_day(placed_at, zone)] += float(total)
    ids = sorted(per_customer)
    days = [sorted(per_customer[c]) for c in ids]
    return Stats(
        customer_id=np.array(ids, dtype=np.int64),
        days=np.array([len(d) for d in days], dtype=float),
        first_day=np.array([d[0] for d in days], dtype=float),
        last_day=np.array([d[-1] for d in days], dtype=float),
        total=np.array([sum(per_customer[c].values()) for c in ids], dtype=float),
        first_value=np.array([per_customer[c][d[0]] for c, d in zip(ids, days, strict=True)], dtype=float),
        recent_returns=_recent_returns(customer_ids),
    )


def stats_from_postgres(zone: ZoneInfo) -> Stats:
    """The same statistics for the whole base in one pass of PostgreSQL over the delivered orders."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH days AS (
                SELECT customer_id, ((placed_at AT TIME ZONE %s)::date - DATE '1970-01-01') AS day, sum(total) AS value
                  FROM orders_order WHERE status = 'delivered' GROUP BY 1, 2
            )
            SELECT customer_id, count(*), min(day), max(day), sum(value)::float8,
                   (array_agg(value ORDER BY day))[1]::float8
              FROM days GROUP BY customer_id ORDER BY customer_id
            """,
            [str(zone)],
        )
        rows = cursor.fetchall()
    data = np.array(rows, dtype=float).reshape(-1, 6)
    return Stats(
        customer_id=data[:, 0].astype(np.int64),
        days=data[:, 1],
        first_day=data[:, 2],
        last_day=data[:, 3],
        total=data[:, 4],
        first_value=data[:, 5],
        recent_returns=_recent_returns(None),
    )


def _recent_returns(customer_ids: list[int] | None) -> dict[int, int]:
    """Returns in the last 90 days: a signal of dissatisfaction the purchase model cannot see."""
    since = timezone.now() - timedelta(days=RETURN_WINDOW_DAYS)
    returns = Order.objects.filter(status=OrderStatus.RETURNED, status_changed_at__gte=since)
    if customer_ids is not None:
        returns = returns.filter(customer_id__in=customer_ids)
    counts: dict[int, int] = defaultdict(int)
    for customer_id in returns.values_list("customer_id", flat=True):
        counts[customer_id] += 1
    return dict(counts)


@dataclass
class Model:
    """What a run learnt and what a single update reuses."""

    method: str
    params: dict[str, Any]
    cut_points: dict[str, Any]
    fallback_reason: str = ""


def _boundaries(values: np.ndarray, scores: np.ndarray, levels: range) -> list[float]:
    """For each score but the last, the largest value that got it: a later value scores 1 + the number of
    boundaries it exceeds, exactly what the ranking gave the values already seen."""
    return [float(values[scores <= level].max()) if np.any(scores <= level) else -1e300 for level in levels]


def _score_by(bounds: list[float], values: np.ndarray, first: int = 1) -> np.ndarray:
    return first + np.searchsorted(np.array(bounds), values, side="left")


def _worth(stats: Stats, model: Model, today: int, shop: ShopSettings) -> dict[str, np.ndarray]:
    """The model's per-customer figures (or none when it fell back) and the customer's worth."""
    x, t_x, T = stats.x, stats.last_day - stats.first_day, today - stats.first_day
    out: dict[str, np.ndarray] = {}
    if model.method == "bgnbd":
        p = bgnbd.BgNbdParams(**model.params["bgnbd"])
        g = gamma_gamma.GammaGammaParams(**model.params["gamma_gamma"])
        value = gamma_gamma.expected_average_value(g, x, stats.repeat_average)
        out["p_alive"] = bgnbd.probability_alive(p, x, t_x, T)
        for days in (30, 90, 365):
            out[f"expected_{days}"] = bgnbd.expected_transactions(p, days, x, t_x, T)
        out["expected_value"] = value
        out["clv"] = predicted_clv(
            p, x, t_x, T, value, margin=float(shop.gross_margin), monthly_discount=float(shop.monthly_discount_rate)
        )
    realised = stats.total * float(shop.gross_margin)
    out["worth"] = out.get("clv", np.zeros(x.size)) + realised
    return out


def fit_model(stats: Stats, today: int) -> Model:
    """Fit on the distinct (x, t_x, T) summaries; fall back to RF quintiles, saying why, when the data or the fit
    do not allow the model."""
    x, t_x, T = stats.x, stats.last_day - stats.first_day, today - stats.first_day
    reason = checks.data_too_thin(x)
    if reason is None:
        keys, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
        fit = bgnbd.fit(keys[:, 0], keys[:, 1], keys[:, 2], weights=counts.astype(float))
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
                    "distinct_summaries": int(keys.shape[0]),
                    "time_unit": "day",
                },
                cut_points={},
            )
    return Model(method="rf", params={}, cut_points={}, fallback_reason=reason or "")


@dataclass
class Scored:
    stats: Stats
    figures: dict[str, np.ndarray]
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    segment: np.ndarray
    importance: np.ndarray
    tier: np.ndarray
    churn: np.ndarray | None
    reasons: list[list[str]]


def score(stats: Stats, model: Model, today: int, shop: ShopSettings, *, learn_cut_points: bool) -> Scored:
    """Scores for the customers in ``stats``: ranked among themselves when ``learn_cut_points`` (a full run, which
    then stores the cut points), else placed by the stored cut points (a single update)."""
    recency = today - stats.last_day
    figures = _worth(stats, model, today, shop)
    monetary = stats.total / stats.days
    if learn_cut_points:
        r = quintile_scores(recency, higher_is_better=False)
        f = quintile_scores(stats.days)
        m = quintile_scores(monetary)
        imp = importance_of(figures["worth"], np.zeros(stats.days.size))
        model.cut_points = {
            "recency": _boundaries(-recency, r, range(1, 5)),
            "days": _boundaries(stats.days, f, range(1, 5)),
            "monetary": _boundaries(monetary, m, range(1, 5)),
            "importance": _boundaries(figures["worth"], imp, range(0, 100)),
        }
    else:
        cuts = model.cut_points
        r = _score_by(cuts["recency"], -recency)
        f = _score_by(cuts["days"], stats.days)
        m = _score_by(cuts["monetary"], monetary)
        imp = _score_by(cuts["importance"], figures["worth"], first=0)
    churn = None
    reasons: list[list[str]] = [[] for _ in range(stats.days.size)]
    if "p_alive" in figures:
        churn = 1.0 - figures["p_alive"]
        for index, customer_id in enumerate(stats.customer_id):
            returned = stats.recent_returns.get(int(customer_id), 0)
            if returned:
                churn[index] = min(1.0, churn[index] + RETURN_RISK * returned)
                reasons[index].append(_("%(count)s return(s) in the last 90 days") % {"count": returned})
    return Scored(stats, figures, r, f, m, rf_segments(r, f), imp, tiers(imp, TierThresholds()), churn, reasons)


def _columns(scored: Scored, run_id: int | None, today: int) -> dict[str, list[Any]]:
    """The score table's columns for every scored customer, built a column at a time (numpy formats money and
    dates in bulk; a million customers are a few seconds, not a minute of per-row Python)."""
    stats, fig = scored.stats, scored.figures
    n = stats.customer_id.size
    none = [None] * n

    def money(values: np.ndarray) -> list[str]:
        return np.char.mod("%.2f", np.round(values, 2)).tolist()

    def floats(name: str) -> list[Any]:
        return fig[name].tolist() if name in fig else none

    def day(values: np.ndarray) -> list[str]:
        return np.datetime_as_string(values.astype("datetime64[D]")).tolist()

    now = timezone.now().isoformat()
    return {
        "customer_id": stats.customer_id.tolist(),
        "run_id": [run_id] * n,
        "first_purchase": day(stats.first_day.astype(np.int64)),
        "last_purchase": day(stats.last_day.astype(np.int64)),
        "transactions": stats.days.astype(np.int64).tolist(),
        "recency_days": (today - stats.last_day).astype(np.int64).tolist(),
        "tenure_days": (today - stats.first_day).astype(np.int64).tolist(),
        "total_value": money(stats.total),
        "average_value": money(stats.total / stats.days),
        "r_score": scored.r.tolist(),
        "f_score": scored.f.tolist(),
        "m_score": scored.m.tolist(),
        "segment": scored.segment.tolist(),
        "p_alive": floats("p_alive"),
        "expected_30": floats("expected_30"),
        "expected_90": floats("expected_90"),
        "expected_365": floats("expected_365"),
        "expected_value": money(fig["expected_value"]) if "expected_value" in fig else none,
        "predicted_clv": money(fig["clv"]) if "clv" in fig else none,
        "churn_risk": scored.churn.tolist() if scored.churn is not None else none,
        "churn_reasons": scored.reasons,
        "importance": scored.importance.tolist(),
        "tier": scored.tier.tolist(),
        "updated_at": [now] * n,
    }


FIELDS = [f.attname for f in CustomerScore._meta.concrete_fields]


def write_scores(columns: dict[str, list[Any]], *, replace_all: bool) -> None:
    """All rows at once: COPY into a temporary table and one upsert on PostgreSQL, bulk upserts elsewhere. A full
    run also removes the scores of customers who no longer have a delivered order."""
    count = len(columns["customer_id"])
    if connection.vendor == "postgresql" and count > 1000:
        _write_postgres(columns, replace_all)
        return
    objects = [CustomerScore(**{name: columns[name][i] for name in FIELDS}) for i in range(count)]
    updatable = [name for name in FIELDS if name != "customer_id"]
    CustomerScore.objects.bulk_create(
        objects, batch_size=2000, update_conflicts=True, unique_fields=["customer"], update_fields=updatable
    )
    if replace_all:
        CustomerScore.objects.exclude(customer_id__in=columns["customer_id"]).delete()


def _copy_column(values: list[Any]) -> list[str]:
    """One column as COPY text: NULL as \\N, lists as JSON; our values hold no tabs, newlines or backslashes."""
    return [
        "\\N" if value is None else json.dumps(value, ensure_ascii=False) if isinstance(value, list) else str(value)
        for value in values
    ]


def _write_postgres(columns: dict[str, list[Any]], replace_all: bool) -> None:
    table = CustomerScore._meta.db_table
    names = ", ".join(FIELDS)
    text = "\n".join("\t".join(row) for row in zip(*(_copy_column(columns[name]) for name in FIELDS), strict=True))
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in FIELDS if name != "customer_id")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE score_staging (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
        cursor.copy_expert(f"COPY score_staging ({names}) FROM STDIN", io.StringIO(text + "\n"))
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM score_staging "  # noqa: S608 (model's own names)
            f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        )
        if replace_all:
            cursor.execute(
                f"DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM score_staging s WHERE s.customer_id = t.customer_id)"  # noqa: S608
            )


def scoring_run_start(*, user: Any = None) -> ScoringRun:
    """Record a run and queue it after commit."""
    from scoring.tasks import scoring_full_run_task

    run = ScoringRun.objects.create(triggered_by=user if getattr(user, "is_authenticated", False) else None)
    transaction.on_commit(lambda: scoring_full_run_task.delay(run.pk))
    return run


def scoring_full_run(*, run_id: int) -> ScoringRun | None:
    """Rescore the whole base. Claimed with a conditional UPDATE (pending → running), so a repeated task message
    does nothing; the run's parameters, cut points and step timings are recorded, or its error."""
    if not ScoringRun.objects.filter(pk=run_id, state=ScoringRun.State.PENDING).update(
        state=ScoringRun.State.RUNNING, started_at=timezone.now()
    ):
        return None
    run = ScoringRun.objects.get(pk=run_id)
    timings: dict[str, float] = {}
    try:
        shop = ShopSettings.load()
        zone = ZoneInfo(shop.time_zone)
        today = _local_day(timezone.now(), zone)
        step = time.perf_counter()
        stats = stats_from_postgres(zone) if connection.vendor == "postgresql" else stats_from_orders(None, zone)
        timings["statistics"] = time.perf_counter() - step
        _progress(run, 30)
        step = time.perf_counter()
        model = fit_model(stats, today)
        timings["fit"] = time.perf_counter() - step
        _progress(run, 50)
        step = time.perf_counter()
        scored = score(stats, model, today, shop, learn_cut_points=True)
        columns = _columns(scored, run.pk, today)
        timings["score"] = time.perf_counter() - step
        _progress(run, 75)
        step = time.perf_counter()
        with transaction.atomic():
            write_scores(columns, replace_all=True)
            timings["write"] = time.perf_counter() - step
            ScoringRun.objects.filter(pk=run.pk).update(
                state=ScoringRun.State.SUCCEEDED,
                finished_at=timezone.now(),
                customers=len(columns["customer_id"]),
                method=model.method,
                fallback_reason=model.fallback_reason,
                params=model.params,
                cut_points=model.cut_points,
                timings=timings,
                progress=100,
            )
    except Exception as error:
        ScoringRun.objects.filter(pk=run.pk).update(
            state=ScoringRun.State.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}",
            timings=timings,
        )
        raise
    run.refresh_from_db()
    return run


def _progress(run: ScoringRun, percent: int) -> None:
    ScoringRun.objects.filter(pk=run.pk).update(progress=percent)


def score_customers(*, customer_ids: list[int]) -> int:
    """Rescore a few customers with the last successful run's parameters and cut points (no refit). Safe to run
    twice; customers with no delivered order left lose their score. Returns how many were scored."""
    last = ScoringRun.objects.filter(state=ScoringRun.State.SUCCEEDED).order_by("-finished_at").first()
    if last is None or not customer_ids:
        return 0
    shop = ShopSettings.load()
    zone = ZoneInfo(shop.time_zone)
    today = _local_day(timezone.now(), zone)
    stats = stats_from_orders(list(customer_ids), zone)
    with transaction.atomic():
        CustomerScore.objects.filter(customer_id__in=customer_ids).exclude(
            customer_id__in=stats.customer_id.tolist()
        ).delete()
        if stats.customer_id.size == 0:
            return 0
        model = Model(method=last.method, params=last.params, cut_points=last.cut_points)
        scored = score(stats, model, today, shop, learn_cut_points=False)
        write_scores(_columns(scored, last.pk, today), replace_all=False)
    return int(stats.customer_id.size)


def _rescore_after_commit(customer_ids: list[int]) -> None:
    from scoring.tasks import score_customers_task

    transaction.on_commit(lambda: score_customers_task.delay(customer_ids))


def churn_signal_raise(*, customer_id: int, kind: str, source: str, detail: str = "", weight: float) -> ChurnSignal:
    """Record a signal (once per kind and source: raising it again changes nothing) and rescore the customer."""
    signal, created = ChurnSignal.objects.get_or_create(
        kind=kind, source=source, defaults={"customer_id": customer_id, "detail": detail[:200], "weight": weight}
    )
    if created:
        _rescore_after_commit([customer_id])
    return signal


def churn_signal_clear(*, source: str) -> int:
    """Clear every active signal raised by ``source`` (a resolved complaint) and rescore its customers."""
    signals = ChurnSignal.objects.filter(source=source, cleared_at__isnull=True)
    customer_ids = sorted(set(signals.values_list("customer_id", flat=True)))
    cleared = signals.update(cleared_at=timezone.now())
    if customer_ids:
        _rescore_after_commit(customer_ids)
    return cleared


def scoring_settings_update(*, vip_from: int, high_from: int, medium_from: int) -> ScoringSettings:
    """Save the owner's tier thresholds and re-tier every stored score in one UPDATE (no refit needed)."""
    with transaction.atomic():
        settings = ScoringSettings.load()
        settings.vip_from, settings.high_from, settings.medium_from = vip_from, high_from, medium_from
        settings.full_clean()
        settings.save()
        tier = Case(
            When(importance__gte=vip_from, then=Value("vip")),
            When(importance__gte=high_from, then=Value("high")),
            When(importance__gte=medium_from, then=Value("medium")),
            default=Value("low"),
        )
        CustomerScore.objects.exclude(tier=tier).update(tier=tier)
    return settings
