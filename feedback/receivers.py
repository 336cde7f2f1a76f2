"""Reactions to the apps below: a delivered order queues the writing of its invitation (the signal came after
commit; the sweeper covers a lost message). A merge needs no reaction: feedback's merge mover moved the duplicate's
surveys inside the merge's transaction."""

from typing import Any


def on_orders_delivered(sender: Any, order_ids: list[int], **kwargs: Any) -> None:
    from feedback.tasks import invitations_schedule_task

    for start in range(0, len(order_ids), 1000):
        invitations_schedule_task.delay(list(order_ids[start : start + 1000]))
