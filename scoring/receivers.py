"""Reactions to the apps below: a changed order rescores its customers, and so does a merge, which moves the
duplicate's orders to the survivor (queued; both signals come after commit)."""

from typing import Any


def on_orders_changed(sender: Any, customer_ids: list[int], **kwargs: Any) -> None:
    from scoring.tasks import score_customers_task

    for start in range(0, len(customer_ids), 1000):
        score_customers_task.delay(list(customer_ids[start : start + 1000]))


def on_customer_merged(sender: Any, customer_id: int, merged_customer_id: int, **kwargs: Any) -> None:
    """The duplicate's churn signals move to the survivor, which is scored with the orders it gained; the
    duplicate, left with none, loses its score."""
    from scoring.services import churn_signals_move
    from scoring.tasks import score_customers_task

    churn_signals_move(from_customer_id=merged_customer_id, to_customer_id=customer_id)
    score_customers_task.delay([customer_id, merged_customer_id])
