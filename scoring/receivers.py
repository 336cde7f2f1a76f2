"""Reactions to the apps below, which only queue work: a changed order rescores its customers, and so does a merge
(the merge itself moved the duplicate's orders and churn signals inside its transaction; both signals come after
the commit). Queued by the task's name (``shop.queueing``): a broker that is down loses a rescore, never the
sender's request, and the nightly run rescores everybody."""

from typing import Any

from shop.queueing import task_send


def on_orders_changed(sender: Any, customer_ids: list[int], **kwargs: Any) -> None:
    for start in range(0, len(customer_ids), 1000):
        task_send("scoring.score_customers", list(customer_ids[start : start + 1000]))


def on_customer_merged(sender: Any, customer_id: int, merged_customer_id: int, **kwargs: Any) -> None:
    """The survivor is scored with the orders it gained; the duplicate, left with none, stays unscored."""
    task_send("scoring.score_customers", [customer_id, merged_customer_id])
