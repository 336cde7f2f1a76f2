"""The nightly expiry over many balances: set-based, in keyset chunks, exact and once only."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from loyalty.models import LedgerEntry, LoyaltyAccount
from loyalty.services import credit_accrue, credit_expire_due
from tests.factories import CustomerFactory
from tests.loyalty.test_accrual_batch import assert_ledger_exact

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def lots_for(customers: int, rng: random.Random) -> tuple[set[int], dict[int, Decimal]]:
    """1–3 lots per customer, each due or not; returns the customers and what each has due."""
    ids: set[int] = set()
    due: dict[int, Decimal] = {}
    for _ in range(customers):
        customer = CustomerFactory.create()
        ids.add(customer.pk)
        for _lot in range(rng.randint(1, 3)):
            days = rng.choice([-20, -5, -1, 3, 40, None])
            amount = Decimal(rng.randint(1, 50000)) / 100
            with transaction.atomic():
                credit_accrue(
                    customer_id=customer.pk, amount=amount, purpose="owner",
                    expires_at=None if days is None else NOW + timedelta(days=days),
                )  # fmt: skip
            if days is not None and days < 0:
                due[customer.pk] = due.get(customer.pk, Decimal("0")) + amount
    return ids, due


def test_expiry_over_many_balances_in_small_chunks_run_twice_expires_each_due_lot_once() -> None:
    rng = random.Random(14)
    customers, due = lots_for(120, rng)
    before = dict(LoyaltyAccount.objects.values_list("pk", "balance"))
    due_lots = LedgerEntry.objects.filter(expires_at__lte=NOW, remaining__gt=0).count()

    assert credit_expire_due(now=NOW, batch=7) == due_lots  # chunks end inside a customer's lots too
    assert credit_expire_due(now=NOW, batch=7) == 0

    assert LedgerEntry.objects.filter(kind="expiry").count() == due_lots
    assert not LedgerEntry.objects.filter(expires_at__lte=NOW, remaining__gt=0).exists()
    for pk, balance in LoyaltyAccount.objects.values_list("pk", "balance"):
        assert balance == before[pk] - due.get(pk, Decimal("0"))
    assert_ledger_exact(customers)


def test_each_expiry_row_names_its_lot_and_the_first_to_expire_posts_first() -> None:
    customer = CustomerFactory.create()
    with transaction.atomic():
        late = credit_accrue(customer_id=customer.pk, amount=Decimal("30.00"), purpose="owner",
                             expires_at=NOW - timedelta(days=1))  # fmt: skip
        early = credit_accrue(customer_id=customer.pk, amount=Decimal("20.00"), purpose="owner",
                              expires_at=NOW - timedelta(days=2))  # fmt: skip
        credit_accrue(customer_id=customer.pk, amount=Decimal("5.00"), purpose="owner")

    credit_expire_due(now=NOW)

    rows = LedgerEntry.objects.filter(kind="expiry").order_by("pk")
    assert list(rows.values_list("source_entry_id", "amount", "balance_after", "created_at")) == [
        (early.pk, Decimal("-20.00"), Decimal("35.00"), NOW),  # type: ignore[union-attr]
        (late.pk, Decimal("-30.00"), Decimal("5.00"), NOW),  # type: ignore[union-attr]
    ]
