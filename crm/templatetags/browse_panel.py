"""The dashboard's customers-and-orders panel: three cheap figures composed from the apps' selectors."""

from typing import Any

from django import template

from customers.selectors import customer_count_estimate
from orders.selectors import month_figures

register = template.Library()


@register.simple_tag
def browse_figures() -> dict[str, Any]:
    """The number of customers (PostgreSQL's estimate on a large base) and this month's orders and revenue (one
    aggregate over the month's slice of the placed_at index): the dashboard loads on every sign-in, so nothing here
    may scan a table."""
    customers, estimated = customer_count_estimate()
    month = month_figures()
    return {"customers": customers, "estimated": estimated, "orders": month.orders, "revenue": month.revenue}
