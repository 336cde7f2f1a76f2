"""Reactions to orders (both signals arrive after commit): deliveries accrue, cancellations and returns reverse.
Receivers only queue; the tasks do the work and are safe to run twice."""

from typing import Any

REVERSING_STATUSES = frozenset({"cancelled", "returned"})


def on_orders_delivered(sender: Any, order_ids: list[int], **kwargs: Any) -> None:
    from loyalty.tasks import loyalty_accrue_task

    for start in range(0, len(order_ids), 1000):
        loyalty_accrue_task.delay(list(order_ids[start : start + 1000]))


def on_orders_changed(sender: Any, status_changes: list[tuple[int, str, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
    """Only a move *into* cancelled or returned from a real earlier status: an order created already cancelled
    earned and spent nothing through us."""
    from loyalty.tasks import loyalty_reverse_task

    reversed_ids = [order_id for order_id, before, after in status_changes if before and after in REVERSING_STATUSES]
    for start in range(0, len(reversed_ids), 1000):
        loyalty_reverse_task.delay(reversed_ids[start : start + 1000])
