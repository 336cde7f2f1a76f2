"""The sweep every kind of background work shares: PostgreSQL keeps the work, Redis may lose its message and a
worker may die in it (DESIGN, reliability). Work waiting too long is queued again (claiming it is a conditional
UPDATE, so a duplicate message does nothing); work running past its task's hard time limit is failed with a
reason, so it never blocks the next one for ever."""

from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from shop.queueing import task_send


def lost_work_sweep(
    *,
    model: type[models.Model],
    task: str,
    running_since: str,
    requeue_after: timedelta,
    lost_after: timedelta,
    error: Any,
) -> dict[str, int]:
    """Re-queue ``model`` rows in state "pending" for longer than ``requeue_after`` (by ``created_at``) through the
    task named ``task``; fail rows "running" since (``running_since``) longer than ``lost_after`` with ``error``.
    The model has ``state``, ``created_at``, ``finished_at`` and ``error`` columns."""
    now = timezone.now()
    waiting = list(
        model._default_manager.filter(state="pending", created_at__lt=now - requeue_after)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    for pk in waiting:
        task_send(task, pk)
    lost = model._default_manager.filter(state="running", **{f"{running_since}__lt": now - lost_after}).update(
        state="failed", finished_at=now, error=error
    )
    return {"requeued": len(waiting), "failed": lost}
