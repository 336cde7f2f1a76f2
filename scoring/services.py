"""Scoring runs: statistics from orders, the engine's fits and scores, bulk writes, monthly snapshots; and
single-customer updates.

A full run reads every customer's statistics with one scan of the orders, fits BG/NBD and Gamma-Gamma on the
distinct summaries, scores everybody in whole columns and swaps in a freshly built score table (binary COPY on
PostgreSQL), writing the month's snapshot beside it on a second connection. A changed order rescores its customer with the last run's
parameters and cut points, which gives exactly what a full run would have given that customer. The pieces live in
``scoring.statistics`` (reads), ``scoring.scorer`` (fits and scores) and ``scoring.storage`` (writes).
"""

from __future__ import annotations

import functools
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from scoring import storage
from scoring.backtests import BACKTEST_DEFAULT_DAYS, backtest_from_split
from scoring.engine.importance import TierThresholds
from scoring.models import ChurnSignal, CustomerScore, ScoringRun, ScoringSettings
from scoring.scorer import Model, fit_model, score
from scoring.statistics import EPOCH, local_day, stats_for_customers, stats_from_postgres
from scoring.storage import columns, write_scores
from shop.locks import advisory_xact_lock
from shop.models import ShopSettings
from shop.queueing import task_queue_on_commit
from shop.sweeps import lost_work_sweep

__all__ = [
    "churn_signal_clear",
    "churn_signal_raise",
    "score_customers",
    "score_records_move",
    "scoring_full_run",
    "scoring_run_start",
    "scoring_settings_update",
    "write_scores",
]


def scoring_run_start(*, user: Any = None) -> ScoringRun:
    """Record a run and queue it after commit."""
    run = ScoringRun.objects.create(triggered_by=user if getattr(user, "is_authenticated", False) else None)
    task_queue_on_commit("scoring.full_run", run.pk)
    return run


RUN_START_LOCK = "scoring.run_start"
ACTIVE_STATES = (ScoringRun.State.PENDING, ScoringRun.State.RUNNING)


def scoring_run_start_unless_active(*, user: Any = None) -> tuple[ScoringRun, bool]:
    """Start a run unless one is waiting or running: returns that run and False, or the new run and True. The
    owner's button and the nightly task serialise on one advisory lock, so a click at 03:30 cannot start a second."""
    with transaction.atomic():
        advisory_xact_lock([RUN_START_LOCK])
        active = ScoringRun.objects.filter(state__in=ACTIVE_STATES).order_by("-created_at").first()
        if active is not None:
            return active, False
        return scoring_run_start(user=user), True


# A run's message waits in Redis, which may lose it; a run's worker may die. PostgreSQL keeps the run, so a sweep
# re-queues a run that nobody claimed (claiming is a conditional UPDATE: a duplicate message does nothing) and
# fails a run that outlived the task's hard time limit, so neither blocks the button and the nightly run for ever.
PENDING_REQUEUE_AFTER = timedelta(minutes=10)
RUNNING_LOST_AFTER = timedelta(seconds=3600 + 300)


def scoring_runs_sweep() -> dict[str, int]:
    """Re-queue runs waiting longer than 10 minutes; fail runs running longer than the task's time limit."""
    return lost_work_sweep(
        model=ScoringRun,
        task="scoring.full_run",
        running_since="started_at",
        requeue_after=PENDING_REQUEUE_AFTER,
        lost_after=RUNNING_LOST_AFTER,
        error=_("The worker stopped during the run: no result after the task's time limit of one hour."),
    )


def scoring_full_run(*, run_id: int) -> ScoringRun | None:
    """Rescore the whole base. Claimed with a conditional UPDATE (pending → running), so a repeated task message
    does nothing; the run's parameters, cut points and step timings are recorded, or its error and the steps
    that finished. The progress bar moves after each step."""
    if not ScoringRun.objects.filter(pk=run_id, state=ScoringRun.State.PENDING).update(
        state=ScoringRun.State.RUNNING, started_at=timezone.now()
    ):
        return None
    timings: dict[str, float] = {}
    try:
        _full_run(run_id, timings)
    except Exception as error:
        ScoringRun.objects.filter(pk=run_id).update(
            state=ScoringRun.State.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}",
            timings=timings,
        )
        raise
    return ScoringRun.objects.get(pk=run_id)


class _Steps:
    """Times each step into ``timings`` and moves the run's progress bar after it.

    The last steps run inside the run's transaction, where a progress update would stay unseen until the commit
    and leave the owner's bar standing still for half the run. On PostgreSQL the bar therefore moves through a
    connection of its own that commits each update at once (the run's transaction touches the run's row only
    at its very end, so the two never wait for each other). Inside an outer transaction (a test) the run's own
    connection moves it."""

    def __init__(self, run_id: int, timings: dict[str, float]) -> None:
        self.run_id, self.timings = run_id, timings
        self._own: Any = None
        if not connection.in_atomic_block:
            self._own = psycopg2.connect(**connection.get_connection_params())
            self._own.autocommit = True

    def done(self, name: str, started: float, progress: int) -> float:
        now = time.perf_counter()
        self.timings[name] = round(now - started, 3)
        if self._own is None:
            ScoringRun.objects.filter(pk=self.run_id).update(progress=progress)
        else:
            with self._own.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ScoringRun._meta.db_table} SET progress = %s WHERE id = %s",  # noqa: S608
                    [progress, self.run_id],
                )
        return now

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


def _full_run(run_id: int, timings: dict[str, float]) -> None:
    steps = _Steps(run_id, timings)
    try:
        _run_steps(run_id, timings, steps)
    finally:
        steps.close()


def _run_steps(run_id: int, timings: dict[str, float], steps: _Steps) -> None:
    shop = ShopSettings.load()
    settings = ScoringSettings.load()
    zone = ZoneInfo(shop.time_zone)
    read_at = timezone.now()
    today = local_day(read_at, zone)
    started = time.perf_counter()
    cutoff = today - BACKTEST_DEFAULT_DAYS
    stats = stats_from_postgres(zone, today, backtest_cutoff=cutoff)
    started = steps.done("statistics", started, 30)
    model = fit_model(stats, today, horizon_days=settings.churn_horizon_days)
    started = steps.done("fit", started, 40)
    if stats.split is not None:
        backtest_from_split(split=stats.split, shop=shop, cutoff=cutoff, run_id=run_id)
        stats.split = None
        started = steps.done("backtest", started, 45)
    scored = score(stats, model, today, shop, settings.thresholds, learn_cut_points=True)
    data = columns(scored, run_id, timezone.now())
    customers = stats.size
    del stats
    started = steps.done("score", started, 60)
    month = (EPOCH + timedelta(days=today)).replace(day=1)
    finished = {
        "customers": customers,
        "method": model.method,
        "fallback_reason": model.fallback_reason,
        "params": model.params,
        "cut_points": model.cut_points,
    }
    # The month's snapshot goes in on a second connection while this one builds the fresh table; readers of the
    # live scores wait only for the swap.
    snapshot = storage.MonthSnapshot(data, month=month, run_id=run_id)
    try:
        with transaction.atomic():
            storage.build_fresh(data)
            started = steps.done("write", started, 75)
            snapshot.wait()
            del data, scored
            # What the run waited for the snapshot after its own write: the rest of its time ran beside it.
            started = steps.done("snapshot", started, 95)
            storage.swap_fresh(since=read_at)
            timings["swap"] = round(time.perf_counter() - started, 3)
            _succeeded(run_id, timings, finished)
    except BaseException:
        snapshot.abandon()
        raise
    snapshot.commit()


def _succeeded(run_id: int, timings: dict[str, float], finished: dict[str, Any]) -> None:
    ScoringRun.objects.filter(pk=run_id).update(
        state=ScoringRun.State.SUCCEEDED, finished_at=timezone.now(), timings=timings, progress=100, **finished
    )


@functools.lru_cache(maxsize=1)
def _run_model(run_id: int, finished_at: Any) -> Model:
    """A run's model, parsed once per process and run (a rescore must not pay for the JSON of a hundred cut points
    every time); the finish time in the key tells apart runs of reset databases. Read-only to its callers: single
    updates never learn cut points or fall back, the two things that change a model."""
    run = ScoringRun.objects.get(pk=run_id)
    return Model(method=run.method, params=run.params, cut_points=run.cut_points)


# The last successful run and the owner's thresholds in one round trip: a rescore's ORM lookups of the two cost
# more than its statistics.
_LAST_RUN = """
    SELECT r.id, r.finished_at, s.vip_from, s.high_from, s.medium_from
      FROM (SELECT id, finished_at FROM scoring_scoringrun WHERE state = %s
             ORDER BY finished_at DESC, id DESC LIMIT 1) AS r
      LEFT JOIN scoring_scoringsettings s ON s.id = 1
"""


def _last_model() -> tuple[int, Model, TierThresholds] | None:
    """The last successful run's model, parsed once per process and run (a rescore must not pay for the JSON of
    a hundred cut points every time; the finish time in the key tells apart runs of reset databases), and the
    owner's tier thresholds."""
    with connection.cursor() as cursor:
        cursor.execute(_LAST_RUN, [ScoringRun.State.SUCCEEDED.value])
        row = cursor.fetchone()
    if row is None:
        return None
    thresholds = TierThresholds(*row[2:]) if row[2] is not None else ScoringSettings.load().thresholds
    return row[0], _run_model(row[0], row[1]), thresholds


def score_customers(*, customer_ids: list[int]) -> int:
    """Rescore a few customers with the last successful run's parameters and cut points (no refit). Safe to run
    twice; customers with no delivered order left lose their score. Returns how many were scored.

    On PostgreSQL it is three statements: the last run with the thresholds, the statistics (with signals and last
    month's snapshot) and one upsert. The commit does not wait for the disk (``synchronous_commit`` off for this
    transaction only): a rescore lost in a crash is redone by the next change or the nightly run, and the wait
    was most of a rescore's time."""
    last = _last_model()
    if last is None or not customer_ids:
        return 0
    run_id, model, thresholds = last
    shop = ShopSettings.load()
    zone = ZoneInfo(shop.time_zone)
    today = local_day(timezone.now(), zone)
    with transaction.atomic():
        stats = stats_for_customers(list(customer_ids), zone, today)
        if stats.size < len(set(customer_ids)):
            CustomerScore.objects.filter(customer_id__in=customer_ids).exclude(
                customer_id__in=stats.customer_id.tolist()
            ).delete()
        if stats.size == 0:
            return 0
        scored = score(stats, model, today, shop, thresholds, learn_cut_points=False)
        write_scores(columns(scored, run_id, timezone.now()), replace_all=False, durable=False)
    return stats.size


def _rescore_after_commit(customer_ids: list[int]) -> None:
    task_queue_on_commit("scoring.score_customers", customer_ids)


def churn_signal_raise(*, customer_id: int, kind: str, source: str, detail: str = "", weight: float) -> ChurnSignal:
    """Record a signal (once per kind and source) and rescore the customer. Raising an active signal again changes
    nothing; raising a cleared one (a complaint opened again after it was resolved) makes it active again."""
    signal, created = ChurnSignal.objects.get_or_create(
        kind=kind, source=source, defaults={"customer_id": customer_id, "detail": detail[:200], "weight": weight}
    )
    if not created and signal.cleared_at is not None:
        reactivated = ChurnSignal.objects.filter(pk=signal.pk, cleared_at__isnull=False).update(
            cleared_at=None, raised_at=timezone.now()
        )
        signal.refresh_from_db()
        created = bool(reactivated)
    if created:
        _rescore_after_commit([customer_id])
    return signal


def score_records_move(*, from_customer_id: int, to_customer_id: int) -> dict[str, int]:
    """Scoring's merge mover, run inside the merge's transaction: the duplicate's churn signals stand against the
    survivor, and the duplicate, left with no orders, loses its score (the survivor is rescored after the commit,
    by the ``customer_merged`` receiver). Returns what moved and what was dropped."""
    signals = ChurnSignal.objects.filter(customer_id=from_customer_id).update(customer_id=to_customer_id)
    dropped, _ = CustomerScore.objects.filter(customer_id=from_customer_id).delete()
    return {"churn_signals": signals, "scores_dropped": dropped}


def churn_signal_clear(*, source: str) -> int:
    """Clear every active signal raised by ``source`` (a resolved complaint) and rescore its customers."""
    signals = ChurnSignal.objects.filter(source=source, cleared_at__isnull=True)
    customer_ids = sorted(set(signals.values_list("customer_id", flat=True)))
    cleared = signals.update(cleared_at=timezone.now())
    if customer_ids:
        _rescore_after_commit(customer_ids)
    return cleared


def scoring_settings_update(
    *, vip_from: int, high_from: int, medium_from: int, churn_horizon_days: int | None = None
) -> ScoringSettings:
    """Save the owner's tier thresholds and churn horizon. The tiers of every stored score follow at once in one
    UPDATE (no refit needed); a new horizon takes effect with the next full run, which recomputes churn risk."""
    with transaction.atomic():
        settings = ScoringSettings.load()
        settings.vip_from, settings.high_from, settings.medium_from = vip_from, high_from, medium_from
        settings.churn_horizon_days = churn_horizon_days
        settings.full_clean()
        settings.save()
        tier = tier_case(settings.thresholds)
        CustomerScore.objects.exclude(tier=tier).update(tier=tier)
    return settings


def tier_case(thresholds: TierThresholds) -> Case:
    """The tier rule (``TierThresholds.lowest``) as SQL over the stored importance."""
    return Case(
        *(When(importance__gte=lowest, then=Value(tier)) for tier, lowest in thresholds.lowest),
        default=Value("low"),
    )
