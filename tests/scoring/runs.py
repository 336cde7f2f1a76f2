"""Helpers for the tests of scoring runs: a small demo shop, a run, an order bought by phone, a backtest's figures."""

from datetime import datetime
from decimal import Decimal
from io import StringIO
from typing import Any

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


def backtest_figures(**changes: Any) -> dict[str, Any]:
    """A succeeded backtest's figures as ``scoring.engine.backtest.backtest`` stores them: 400 customers, a
    26-week holdout, the model within 5 % of the total and ranking well."""
    result: dict[str, Any] = {
        "customers": 400,
        "holdout_days": 182,
        "params": {"r": 0.3, "alpha": 40.0, "a": 0.9, "b": 3.1},
        "repeat_purchases": {"actual": 1882.0, "predicted": 1976.1},
        "weekly": {"actual": [70 + week for week in range(26)], "predicted": [74.2 + week for week in range(26)]},
        "conditional": [
            {"repeat_purchases": group, "customers": 50, "actual": 0.2 * group, "predicted": 0.21 * group}
            for group in range(8)
        ],
        "capture": [
            {"share": 5, "importance": 0.3731, "spent": 0.3229, "random": 0.05},
            {"share": 20, "importance": 0.6662, "spent": 0.6631, "random": 0.2},
        ],
        "churn": {
            "auc": 0.7812,
            "recency_auc": 0.7714,
            "predicted_share": 0.6123,
            "actual_share": 0.6545,
            "roc": [[0.0, 0.0], [0.1, 0.35], [0.4, 0.8], [1.0, 1.0]],
        },
        "verdict": {"reliable": True, "problems": []},
    }
    result.update(changes)
    return result
