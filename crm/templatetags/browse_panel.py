"""The dashboard's customers-and-orders panel: three cheap figures composed from the apps' selectors."""

from typing import Any

from django import template
from django.core.cache import cache
from django.utils import timezone

from customers.selectors import customer_count_estimate
from orders.selectors import month_figures

register = template.Library()


# The month's aggregate reads some 200,000 orders on a million-customer shop (1.5 s on the benchmark base under
# load): the dashboard loads on every sign-in, so the figures are shared for a minute.
FIGURES_CACHE_SECONDS = 60


@register.simple_tag
def browse_figures() -> dict[str, Any]:
    """The number of customers (PostgreSQL's estimate on a large base) and this month's orders and revenue (one
    aggregate over the month's slice of the placed_at index), at most a minute old."""
    key = f"crm:browse_figures:{timezone.localdate():%Y-%m}"
    figures: dict[str, Any] | None = cache.get(key)
    if figures is None:
        customers, estimated = customer_count_estimate()
        month = month_figures()
        figures = {"customers": customers, "estimated": estimated, "orders": month.orders, "revenue": month.revenue}
        cache.set(key, figures, FIGURES_CACHE_SECONDS)
    return figures
