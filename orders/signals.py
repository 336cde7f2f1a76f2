"""Domain events of the orders app. They are sent only after the transaction that changed the orders commits, so a
receiver (scoring, feedback, loyalty) never sees an order that was rolled back; receivers only queue their work."""

from collections.abc import Sequence

from django.db import transaction
from django.dispatch import Signal

# order_ids, customer_ids: every order created or changed, and their customers; status_changes: the transitions
# among them as (order_id, from_status, to_status), from_status "" for a new order (loyalty reverses on returns).
orders_changed = Signal()
# order_ids: orders that have just become delivered (the moment to ask for feedback and to accrue bonuses).
orders_delivered = Signal()


def send_orders_changed(
    *,
    order_ids: Sequence[int],
    customer_ids: Sequence[int],
    delivered_order_ids: Sequence[int],
    status_changes: Sequence[tuple[int, str, str]] = (),
) -> None:
    if not order_ids:
        return
    order_ids, customer_ids, delivered = list(order_ids), list(customer_ids), list(delivered_order_ids)
    changes = [tuple(change) for change in status_changes]

    def send() -> None:
        orders_changed.send(sender="orders", order_ids=order_ids, customer_ids=customer_ids, status_changes=changes)
        if delivered:
            orders_delivered.send(sender="orders", order_ids=delivered)

    # Robust: the orders are committed by now, and a receiver that cannot queue its work (a broker down) must not
    # turn the stored orders into an error for the sender, who would only send them again. Django logs the error;
    # the receivers' sweeps (and the nightly rescoring) catch up from PostgreSQL.
    transaction.on_commit(send, robust=True)
