"""Helpers for the tests of scoring runs: a small demo shop, a run, an order bought by phone."""

from datetime import datetime
from decimal import Decimal
from io import StringIO

from django.core.management import call_command

from customers.services import CustomerData
from orders.models import ChangeOrigin, Order, OrderStatus
from orders.services import OrderData, order_upsert
from scoring.models import CustomerScore, ScoringRun
from scoring.services import scoring_full_run

# The moment the scoring tests freeze time at: the demo shop's history ends the day it is seeded.
TODAY = datetime(2026, 11, 1, 12)


def seed_shop(customers: int = 400, seed: int = 21) -> None:
    call_command("seed_demo", customers=customers, seed=seed, stdout=StringIO())


def run_now() -> ScoringRun:
    run = ScoringRun.objects.create()
    result = scoring_full_run(run_id=run.pk)
    assert result is not None
    return result


def buy(
    phone: str, external_id: str, day: datetime, total: str = "1000.00", status: str = OrderStatus.DELIVERED
) -> Order:
    order_upsert(
        data=OrderData(
            source="web",
            external_id=external_id,
            customer=CustomerData(source="web", phones=(phone,)),
            placed_at=day,
            status=status,
            total=Decimal(total),
        ),
        origin=ChangeOrigin.API,
    )
    return Order.objects.get(external_id=external_id)


def score_of(customer_id: int) -> CustomerScore:
    return CustomerScore.objects.get(customer_id=customer_id)
