"""How an order's status looks wherever it is shown: one colour per step of the pipeline."""

from django import template

from orders.models import OrderStatus

register = template.Library()

# Bootstrap colour of each status badge: green is money kept, yellow money given back, grey nothing yet.
STATUS_BADGES: dict[str, str] = {
    OrderStatus.NEW: "text-bg-secondary",
    OrderStatus.PAID: "text-bg-info",
    OrderStatus.SHIPPED: "text-bg-primary",
    OrderStatus.DELIVERED: "text-bg-success",
    OrderStatus.CANCELLED: "text-bg-dark",
    OrderStatus.RETURNED: "text-bg-warning",
}


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "text-bg-light")
