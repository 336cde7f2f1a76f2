"""Delivered orders for feedback tests, stored through the orders app's own ingestion service."""

from datetime import UTC, date, datetime
from decimal import Decimal

from customers.models import Customer
from customers.services import CustomerData
from orders.models import ChangeOrigin, Order, OrderStatus
from orders.services import OrderData, order_upsert
from scoring.models import CustomerScore, Tier

DELIVERED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 18:00 in Moscow


def deliver(
    order_id: str = "A-1",
    *,
    email: str = "anna@example.com",
    phone: str = "+79991234567",
    delivered_at: datetime = DELIVERED,
    language: str = "ru",
) -> Order:
    """A delivered order; the customer's consent is set separately (ingestion does not grant it)."""
    result = order_upsert(
        data=OrderData(
            source="web",
            external_id=order_id,
            customer=CustomerData(
                source="web",
                name="Анна",
                phones=(phone,) if phone else (),
                emails=(email,) if email else (),
                language=language,
            ),
            placed_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
            status=OrderStatus.DELIVERED,
            status_at=delivered_at,
            delivered_at=delivered_at,
            total=Decimal("1500.00"),
            subtotal=Decimal("1500.00"),
        ),
        origin=ChangeOrigin.API,
    )
    assert result.order_id is not None
    return Order.objects.get(pk=result.order_id)


def consent(order: Order, *, email: bool = True, sms: bool = False) -> Customer:
    Customer.objects.filter(pk=order.customer_id).update(email_consent=email, sms_consent=sms)
    return Customer.objects.get(pk=order.customer_id)


def score(customer_id: int, segment: str) -> CustomerScore:
    """A stored score that puts the customer in an RF segment (the figures besides the segment do not matter here)."""
    today = date(2026, 3, 2)
    return CustomerScore.objects.create(
        customer_id=customer_id,
        first_purchase=today,
        last_purchase=today,
        transactions=1,
        recency_days=0,
        tenure_days=0,
        r_score=3,
        f_score=1,
        m_score=3,
        segment=segment,
        importance=50,
        tier=Tier.MEDIUM,
    )
