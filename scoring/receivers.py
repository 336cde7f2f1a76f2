"""Reactions to the orders app: a changed order rescores its customers (queued; the signal came after commit)."""

from typing import Any


def on_orders_changed(sender: Any, customer_ids: list[int], **kwargs: Any) -> None:
    from scoring.tasks import score_customers_task

    for start in range(0, len(customer_ids), 1000):
        score_customers_task.delay(list(customer_ids[start : start + 1000]))
