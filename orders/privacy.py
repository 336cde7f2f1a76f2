"""The orders app's part of a person's data export: every order with its items and status history. Orders are not
erased: they hold no name, contact or address (those live on the customer), and the shop's accounting and tax
records need every order and amount. What orders does erase is the person's rows in the uploaded import files still
kept (:mod:`orders.imports.retention`). Registered from ``OrdersConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from customers.contrib import Eraser, ExportPart
from customers.models import Customer
from orders.imports.retention import import_files_erase
from orders.models import Order, OrderItem, OrderStatusChange


def _orders(customer: Customer) -> list[dict[str, Any]]:
    rows = (
        Order.objects.filter(customer=customer)
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.order_by("id")),
            Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("changed_at", "id")),
        )
        .order_by("placed_at", "id")
    )
    return [
        {
            "source": o.source,
            "external_id": o.external_id,
            "placed_at": o.placed_at,
            "status": o.status,
            "status_changed_at": o.status_changed_at,
            "delivered_at": o.delivered_at,
            "currency": o.currency,
            "subtotal": o.subtotal,
            "discount_total": o.discount_total,
            "delivery_cost": o.delivery_cost,
            "total": o.total,
            "promo_code": o.promo_code,
            "items": [
                {"sku": i.sku, "name": i.name, "category": i.category, "quantity": i.quantity, "price": i.price}
                for i in o.items.all()
            ],
            "status_history": [
                {"from": s.from_status, "to": s.to_status, "changed_at": s.changed_at, "origin": s.origin}
                for s in o.status_changes.all()
            ],
        }
        for o in rows
    ]


EXPORT_PARTS = (ExportPart("orders", 100, _orders),)
# The erasure carries the phones and emails it started with, and the orders are kept, so their numbers still find
# the person's rows in an orders file after the customers app's erasers blanked the contacts.
ERASERS = (Eraser("import_files", 150, import_files_erase),)
