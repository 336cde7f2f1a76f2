"""A customer's facts as the rules see them, read through the lower apps' selectors: the score from
``scoring.selectors`` (``churn_risk`` used as the stored figure, whatever the model behind it), the delivered orders
from ``orders.selectors``."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Sum
from django.utils import timezone

from customers.models import Customer
from loyalty.engine.evaluate import Facts
from loyalty.selectors import spendable_credit_column
from orders.models import Order
from orders.selectors import (
    DeliveredSummary,
    delivered_summary,
    delivered_summary_columns,
    delivered_summary_from_columns,
)
from scoring.selectors import score_for_customer, scores_for_customers

_UNREAD: Any = object()
NO_ORDERS = DeliveredSummary(orders=0, spend=Decimal("0.00"), last_placed_at=None)


def facts_of(customer: Customer, summary: DeliveredSummary, score: Any) -> Facts:
    """The facts of ``customer`` whose delivered orders and score (``None``: not scored) were read already."""
    last = summary.last_placed_at or customer.last_order_at
    return Facts(
        customer_id=customer.pk,
        delivered_orders=summary.orders,
        lifetime_spend=summary.spend,
        churn_risk=score.churn_risk if score is not None else None,
        days_since_last_order=None if last is None else (timezone.now() - last).days,
        segment=score.segment if score is not None else "",
        tier=score.tier if score is not None else "",
        predicted_clv=score.predicted_clv if score is not None else None,
        channel=customer.channel,
    )


def customer_facts(customer: Customer, *, score: Any = _UNREAD) -> Facts:
    """Two queries: the delivered-orders aggregate and the score row (one, when the caller already read the score
    and passes it, ``None`` for a customer not scored yet)."""
    summary = delivered_summary(customer.pk)
    if score is _UNREAD:
        score = score_for_customer(customer.pk)
    return facts_of(customer, summary, score)


def checkout_facts(customer: Customer, *, now: datetime) -> tuple[Facts, Decimal]:
    """A checkout's reads in one query (a quote's latency is its round trips): the customer's facts — delivered
    orders, score — and the credit they may spend, the open lots not past their date (``spendable``)."""
    row = (
        Customer.objects.filter(pk=customer.pk)
        .select_related("score")
        .annotate(**delivered_summary_columns(), credit=spendable_credit_column(now))
        .get()
    )
    summary = delivered_summary_from_columns(row.__dict__)
    return facts_of(customer, summary, getattr(row, "score", None)), row.credit or Decimal("0.00")


def _delivered_summaries(customer_ids: list[int]) -> dict[int, DeliveredSummary]:
    """``delivered_summary`` for many customers in one grouped aggregate (the ``order_customer_placed`` index)."""
    rows = (
        Order.objects.delivered()
        .filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(n=Count("pk"), spend=Sum("total"), last=Max("placed_at"))
        .order_by()
    )
    return {
        row["customer_id"]: DeliveredSummary(row["n"], row["spend"] or Decimal("0.00"), row["last"]) for row in rows
    }


def facts_before_orders(orders: list[Order]) -> dict[int, Facts]:
    """Per order (by id), its customer as they were when placing it: the order's own delivery not yet counted, so
    "first order" conditions read the way the owner means them. Two queries for any number of orders (the orders
    must come with their ``customer``)."""
    customer_ids = sorted({order.customer_id for order in orders})
    summaries = _delivered_summaries(customer_ids)
    scores = scores_for_customers(customer_ids)
    facts = {}
    for order in orders:
        now = facts_of(order.customer, summaries.get(order.customer_id, NO_ORDERS), scores.get(order.customer_id))
        facts[order.pk] = replace(
            now,
            delivered_orders=max(now.delivered_orders - 1, 0),
            lifetime_spend=max(now.lifetime_spend - order.total, Decimal("0")),
        )
    return facts
