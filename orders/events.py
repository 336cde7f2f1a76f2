"""Dispatching the orders app's domain events: the ``OrderEvent`` rows that ingestion writes beside the orders become
``orders_changed`` / ``orders_delivered`` signals, whose receivers queue rescoring, surveys and bonuses.

At least once: the signals are sent, then the row is marked dispatched, so a worker that dies in between (or a
receiver whose broker refused a message) leaves it pending for the sweep. Every receiver's task is safe to run twice
(DESIGN, reliability), which is what makes a second dispatch harmless."""

import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone

from orders.models import OrderEvent
from orders.signals import orders_changed, orders_delivered

logger = logging.getLogger(__name__)

# Pending longer than this, an event's own message was lost (a broker outage) or its worker died: the sweep sends
# it. Well above the time a healthy queue takes, so the sweep rarely doubles the dispatch task's work.
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 500
# Dispatched events only serve a person reading what happened lately.
KEEP_DISPATCHED = timedelta(days=1)


def _send(payload: dict[str, Any]) -> bool:
    """Send the event's signals; whether every receiver took it (a failure is logged with its receiver)."""
    responses = orders_changed.send_robust(
        sender="orders",
        order_ids=payload["order_ids"],
        customer_ids=payload["customer_ids"],
        status_changes=[tuple(change) for change in payload["status_changes"]],
    )
    if payload["delivered_order_ids"]:
        responses += orders_delivered.send_robust(sender="orders", order_ids=payload["delivered_order_ids"])
    failed = [(receiver, error) for receiver, error in responses if isinstance(error, Exception)]
    for receiver, error in failed:
        logger.warning("An orders receiver failed (%r): %s; the sweep sends the event again.", receiver, error)
    return not failed


def order_event_dispatch(*, event_id: int) -> bool:
    """Send one pending event's signals and mark it dispatched; ``False`` when it was dispatched already or a
    receiver failed (it stays pending). Takes no lock: a concurrent sweep may send it twice, which is harmless."""
    event = OrderEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).first()
    if event is None:
        return False
    if not _send(event.payload):
        return False
    OrderEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return True


def order_events_sweep(*, now: Any = None) -> dict[str, int]:
    """Dispatch the events pending for longer than :data:`SWEEP_AFTER`, oldest first, a batch at a time; forget
    those dispatched more than :data:`KEEP_DISPATCHED` ago. Returns the counts."""
    moment = now or timezone.now()
    pending = list(
        OrderEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=moment - SWEEP_AFTER)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    dispatched = sum(order_event_dispatch(event_id=pk) for pk in pending)
    forgotten, _ = OrderEvent.objects.filter(dispatched_at__lt=moment - KEEP_DISPATCHED).delete()
    return {"pending": len(pending), "dispatched": dispatched, "forgotten": forgotten}
