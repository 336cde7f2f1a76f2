"""The orders app's part of the card: the customer's orders on the timeline. Registered from ``OrdersConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from customers.contrib import TimelineEntry, TimelineSource
from orders.selectors import orders_for_customer

if TYPE_CHECKING:
    from customers.models import Customer


def _order_entries(customer: Customer, limit: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(kind="order", at=order.placed_at, template="orders/_timeline_order.html", object=order)
        for order in orders_for_customer(customer, limit=limit)
    ]


TIMELINE = (TimelineSource("orders", 10, _order_entries),)
