"""Orders' part of the customer list's search: the customers whose order carries a typed number."""

from typing import Any

from django.db.models import QuerySet

from orders.models import Order


def customers_with_order_number(text: str) -> QuerySet[Any]:
    """``customer_id`` of the orders numbered ``text``, written with or without the ``#`` shops print ("#1001"),
    on the ``external_id`` index (orders migration 0006), whichever source the order came from."""
    number = text.strip().lstrip("#")
    return Order.objects.filter(external_id__in=[number, f"#{number}"]).values("customer_id")
