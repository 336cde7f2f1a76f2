"""Reactions to the apps below, which only queue work: a changed order rescores its customers, and so does a merge
(the merge itself moved the duplicate's orders and churn signals inside its transaction; both signals come after
the commit)."""

from typing import Any


def on_orders_changed(sender: Any, customer_ids: list[int], **kwargs: Any) -> None:
    from scoring.tasks import score_customers_task

    for start in range(0, len(customer_ids), 1000):
        score_customers_task.delay(list(customer_ids[start : start + 1000]))


def on_customer_merged(sender: Any, customer_id: int, merged_customer_id: int, **kwargs: Any) -> None:
    """The survivor is scored with the orders it gained; the duplicate, left with none, stays unscored."""
    from scoring.tasks import score_customers_task

    score_customers_task.delay([customer_id, merged_customer_id])
