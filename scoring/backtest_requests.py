"""The owner's on-demand backtest: one at a time, at a cut-off of their choosing."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from scoring import selectors
from scoring.backtests import backtest_start
from scoring.models import Backtest
from shop.locks import advisory_xact_lock

BACKTEST_START_LOCK = "scoring.backtest_start"


def backtest_start_unless_active(*, cutoff: date, user: Any = None) -> tuple[Backtest, bool]:
    """Start a backtest at ``cutoff`` unless one is waiting or running: returns that one and False, or the new one
    and True. Two owners clicking at once serialise on one advisory lock, so they cannot both find none running and
    start two that would read the orders twice. The task is queued after commit (``backtest_start``)."""
    with transaction.atomic():
        advisory_xact_lock([BACKTEST_START_LOCK])
        active = selectors.active_backtest()
        if active is not None:
            return active, False
        return backtest_start(cutoff=cutoff, user=user), True
