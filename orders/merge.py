"""The orders app's part of a merge: the duplicate's orders move to the survivor and both order summaries are
recomputed. Registered as a merge mover from ``OrdersConfig.ready``; ``customers.merging`` runs it."""

from django.utils import timezone

from customers.contrib import MergeMover
from customers.models import Customer
from orders.models import Order
from orders.services import customer_summaries_refresh


def orders_lock_for_merge(survivor_id: int, duplicate_id: int) -> None:
    """Lock the duplicate's orders before the merge locks the customer rows: ingestion locks an existing order,
    then its customer; the merge takes them in the same order so the two cannot deadlock."""
    list(Order.objects.select_for_update().filter(customer_id=duplicate_id).order_by("pk").values_list("pk", flat=True))


def orders_move(survivor: Customer, duplicate: Customer) -> dict[str, int]:
    # Stamped as any write of an order is: analytics rereads the orders changed since its last run.
    moved = Order.objects.filter(customer=duplicate).update(customer=survivor, updated_at=timezone.now())
    customer_summaries_refresh(customer_ids=[survivor.pk, duplicate.pk])
    return {"orders": moved}


MERGE_MOVERS = (MergeMover("orders", 100, orders_move, lock=orders_lock_for_merge),)
