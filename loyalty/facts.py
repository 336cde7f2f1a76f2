"""A customer's facts as the rules see them, read through the lower apps' selectors: the score from
``scoring.selectors`` (``churn_risk`` used as the stored figure, whatever the model behind it), the delivered orders
from ``orders.selectors``."""

from typing import Any

from django.utils import timezone

from customers.models import Customer
from loyalty.engine.evaluate import Facts
from orders.selectors import delivered_summary
from scoring.selectors import score_for_customer

_UNREAD: Any = object()


def customer_facts(customer: Customer, *, score: Any = _UNREAD) -> Facts:
    """Two queries: the delivered-orders aggregate and the score row (one, when the caller already read the score
    and passes it, ``None`` for a customer not scored yet)."""
    summary = delivered_summary(customer.pk)
    if score is _UNREAD:
        score = score_for_customer(customer.pk)
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
