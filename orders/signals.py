"""Domain events of the orders app. They are sent only after the transaction that changed the orders commits, so a
receiver (scoring, feedback, loyalty) never sees an order that was rolled back; receivers only queue their work.

The event is a row (:class:`orders.models.OrderEvent`) written in the orders' own transaction; after the commit a
task is asked to send it (``orders.events``), and a sweep sends whatever a broker outage left pending. A request that
stored orders therefore never waits on, nor fails with, the broker."""

from collections.abc import Sequence

from django.dispatch import Signal

from orders.models import OrderEvent
from shop.queueing import task_queue_on_commit

# order_ids, customer_ids: every order created or changed, and their customers; status_changes: the transitions
# among them as (order_id, from_status, to_status), from_status "" for a new order (loyalty reverses on returns).
orders_changed = Signal()
# order_ids: orders that have just become delivered (the moment to ask for feedback and to accrue bonuses).
orders_delivered = Signal()

DISPATCH_TASK = "orders.order_event_dispatch"


def send_orders_changed(
    *,
    order_ids: Sequence[int],
    customer_ids: Sequence[int],
    delivered_order_ids: Sequence[int],
    status_changes: Sequence[tuple[int, str, str]] = (),
) -> None:
    """Record the change in the caller's transaction and queue its dispatch for the commit."""
    if not order_ids:
        return
    event = OrderEvent.objects.create(
        payload={
            "order_ids": list(order_ids),
            "customer_ids": list(customer_ids),
            "delivered_order_ids": list(delivered_order_ids),
            "status_changes": [list(change) for change in status_changes],
        }
    )
    task_queue_on_commit(DISPATCH_TASK, event.pk)
