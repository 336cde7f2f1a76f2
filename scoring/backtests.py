"""Backtests: the model fitted on the shop's history before a cut-off and judged on what happened after it.

The nightly full run does one at a cut-off six months back from the purchase days its statistics scan already
holds (``scoring.engine.backtest``); the owner can ask for another cut-off from the model page, which reads the
orders once more in a task of its own. Either way the result is a ``Backtest`` row: its figures, or why it was
not possible (a base too small, a holdout too short), or its error.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scoring.engine import backtest as engine
from scoring.models import Backtest
from scoring.statistics import EPOCH, local_day, stats_from_postgres
from shop.models import ShopSettings
from shop.queueing import task_queue_on_commit
from shop.sweeps import lost_work_sweep

# The nightly backtest's cut-off: six months back, long enough for a season's returns, recent enough that the
# shop then is the shop now.
BACKTEST_DEFAULT_DAYS = 182


def default_cutoff(today: date) -> date:
    return today - timedelta(days=BACKTEST_DEFAULT_DAYS)


def backtest_from_split(
    *, split: engine.Split, shop: ShopSettings, cutoff: int, run_id: int | None = None, backtest: Backtest | None = None
) -> Backtest:
    """Judge the model on ``split`` and record the outcome (a new row, or ``backtest`` filled in). A refusal or an
    error is recorded, never raised: the nightly run it rides along with must not fail for it."""
    started = time.perf_counter()
    if backtest is None:
        backtest = Backtest(run_id=run_id, cutoff=EPOCH + timedelta(days=cutoff))
    try:
        backtest.figures = engine.backtest(
            split, margin=float(shop.gross_margin), monthly_discount=float(shop.monthly_discount_rate)
        )
        backtest.state = Backtest.State.SUCCEEDED
    except engine.Refused as refused:
        # Too little history before the cut-off, or a fit that found no maximum: the reasons a run falls back for.
        backtest.state, backtest.refusal, backtest.refusal_detail = Backtest.State.REFUSED, refused.code, refused.detail
    except Exception as error:  # recorded for the owner; the run goes on
        backtest.state, backtest.error = Backtest.State.FAILED, f"{type(error).__name__}: {error}"
    backtest.seconds = round(time.perf_counter() - started, 3)
    backtest.finished_at = timezone.now()
    try:
        with transaction.atomic():
            backtest.save()
    except Exception as error:  # figures the database refused: keep the failure, never fail the nightly run
        backtest.state, backtest.figures, backtest.error = Backtest.State.FAILED, {}, f"{type(error).__name__}: {error}"
        backtest.save()
    return backtest


def backtest_start(*, cutoff: date, user: Any = None) -> Backtest:
    """Record an on-demand backtest at ``cutoff`` and queue it after commit."""
    backtest = Backtest.objects.create(
        cutoff=cutoff, triggered_by=user if getattr(user, "is_authenticated", False) else None
    )
    task_queue_on_commit("scoring.backtest", backtest.pk)
    return backtest


def backtest_run(*, backtest_id: int) -> Backtest | None:
    """Run a queued backtest: claimed with a conditional UPDATE (pending → running), so a repeated message does
    nothing. Reads the orders once (the statistics scan) and judges the model at the row's cut-off."""
    if not Backtest.objects.filter(pk=backtest_id, state=Backtest.State.PENDING).update(state=Backtest.State.RUNNING):
        return None
    backtest = Backtest.objects.get(pk=backtest_id)
    shop = ShopSettings.load()
    zone = ZoneInfo(shop.time_zone)
    today = local_day(timezone.now(), zone)
    cutoff = (backtest.cutoff - EPOCH).days
    try:
        stats = stats_from_postgres(zone, today, backtest_cutoff=cutoff)
    except Exception as error:
        Backtest.objects.filter(pk=backtest_id).update(
            state=Backtest.State.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
    assert stats.split is not None  # asked for with the cut-off
    return backtest_from_split(split=stats.split, shop=shop, cutoff=cutoff, backtest=backtest)


# Like scoring runs: Redis may lose a backtest's message and a worker may die in one. PostgreSQL keeps the row.
PENDING_REQUEUE_AFTER = timedelta(minutes=10)
RUNNING_LOST_AFTER = timedelta(seconds=1800 + 300)


def backtests_sweep() -> dict[str, int]:
    """Re-queue backtests waiting longer than 10 minutes; fail those running longer than the task's time limit."""
    return lost_work_sweep(
        model=Backtest,
        task="scoring.backtest",
        running_since="created_at",
        requeue_after=PENDING_REQUEUE_AFTER,
        lost_after=RUNNING_LOST_AFTER,
        error=_("The worker stopped during the backtest: no result after the task's time limit of 30 minutes."),
    )


def backtest_latest() -> Backtest | None:
    """The newest finished backtest (succeeded or refused), for the model page."""
    return (
        Backtest.objects.filter(state__in=[Backtest.State.SUCCEEDED, Backtest.State.REFUSED])
        .order_by("-finished_at", "-id")
        .first()
    )
