"""Reactions to the apps below: a delivered order queues the writing of its invitation (the signal came after
commit; the sweeper covers a lost message), and a merge moves the duplicate's surveys to the survivor."""

from typing import Any


def on_orders_delivered(sender: Any, order_ids: list[int], **kwargs: Any) -> None:
    from feedback.tasks import invitations_schedule_task

    for start in range(0, len(order_ids), 1000):
        invitations_schedule_task.delay(list(order_ids[start : start + 1000]))


def on_customer_merged(sender: Any, customer_id: int, merged_customer_id: int, **kwargs: Any) -> None:
    from feedback.services import survey_records_move

    survey_records_move(from_customer_id=merged_customer_id, to_customer_id=customer_id)
