"""The set-based paths against the real PostgreSQL, many connections at once: batch accruals of the same orders,
spends and the nightly expiry of the same customers. The account locks must keep every balance exact and never
below zero."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from loyalty.models import Coupon, LedgerEntry, LoyaltyAccount
from loyalty.services import (
    credit_accrue,
    credit_expire_due,
    loyalty_accrue_for_orders,
    loyalty_reverse_for_orders,
)
from orders.models import Order
from tests.factories import CustomerFactory, LoyaltyRuleFactory, OrderFactory
from tests.loyalty.test_accrual_batch import assert_ledger_exact
from tests.loyalty.test_concurrency import run_in_threads, spend_credit

pytestmark = pytest.mark.django_db(transaction=True)


def test_four_workers_accruing_the_same_batch_at_once_post_it_once() -> None:
    LoyaltyRuleFactory.create()
    LoyaltyRuleFactory.create(kind="next_order_coupon", params={"value_kind": "fixed", "value": "300", "valid_days": 9})
    people = [CustomerFactory.create() for _ in range(20)]
    orders = [
        OrderFactory.create(customer=person, status="delivered", delivered_at=timezone.now())
        for person in people
        for _ in range(3)
    ]

    def accrue(n: int) -> str:
        loyalty_accrue_for_orders(order_ids=[o.pk for o in orders][:: 1 if n % 2 else -1])
        return "ok"

    assert run_in_threads(4, 8, accrue) == Counter({"ok": 8})
    assert LedgerEntry.objects.filter(kind="accrual").count() == 60
    assert Coupon.objects.count() == 60
    assert set(LoyaltyAccount.objects.values_list("balance", flat=True)) == {Decimal("150.00")}
    assert_ledger_exact({person.pk for person in people})


def test_accruals_spends_and_the_expiry_at_once_keep_every_balance_exact_and_never_negative() -> None:
    LoyaltyRuleFactory.create()  # 5 % of 1,000.00 = 50.00 a delivered order
    now = timezone.now()
    people = [CustomerFactory.create() for _ in range(6)]
    for person in people:
        with transaction.atomic():
            credit_accrue(customer_id=person.pk, amount=Decimal("20.00"), purpose="owner")
            credit_accrue(customer_id=person.pk, amount=Decimal("30.00"), purpose="owner",
                          expires_at=now - timedelta(hours=1))  # fmt: skip
    orders = [OrderFactory.create(customer=p, status="delivered", delivered_at=now) for p in people for _ in range(2)]

    def work(n: int) -> str:
        if n == 0:
            return f"expired {credit_expire_due(batch=2)}"
        if n <= 4:
            loyalty_accrue_for_orders(order_ids=[o.pk for o in orders[n % 2 :: 2]])
            return "accrued"
        return spend_credit(people[n % len(people)], Decimal("7.00"), f"spend-{n}")

    outcomes = run_in_threads(8, 160, work)

    spent = outcomes["spent"]
    assert outcomes["accrued"] == 4 and outcomes["spent"] + outcomes["balance_spent"] == 155
    assert outcomes["balance_spent"] > 0  # the customers asked for more than they had
    assert LedgerEntry.objects.filter(kind="accrual", order__isnull=False).count() == 12
    credit_expire_due()  # whatever the race left due expires now, once
    assert LedgerEntry.objects.filter(kind="expiry").count() == 6
    assert min(LedgerEntry.objects.values_list("balance_after", flat=True)) >= 0
    total = sum(LoyaltyAccount.objects.values_list("balance", flat=True), Decimal("0"))
    # 20 kept + 100 earned per customer, 30 expired; 7.00 a successful spend.
    assert total == 6 * Decimal("120.00") - spent * Decimal("7.00") >= 0
    assert_ledger_exact({person.pk for person in people})


def test_two_parallel_expiry_runs_on_two_connections_each_expire_every_due_lot_once() -> None:
    now = timezone.now()
    people = [CustomerFactory.create() for _ in range(15)]
    for n, person in enumerate(people):
        with transaction.atomic():
            for days in (-3, -1, 5)[: 1 + n % 3]:
                credit_accrue(customer_id=person.pk, amount=Decimal("10.00") + n, purpose="owner",
                              expires_at=now + timedelta(days=days))  # fmt: skip
    due = LedgerEntry.objects.filter(expires_at__lte=now, remaining__gt=0).count()

    outcomes = run_in_threads(2, 2, lambda _n: str(credit_expire_due(now=now, batch=2, workers=2)))

    assert sum(int(expired) * runs for expired, runs in outcomes.items()) == due > 0
    assert LedgerEntry.objects.filter(kind="expiry").count() == due
    assert not LedgerEntry.objects.filter(expires_at__lte=now, remaining__gt=0).exists()
    assert_ledger_exact({person.pk for person in people})


def test_batch_reversals_racing_spends_take_back_only_what_is_left_and_never_go_negative() -> None:
    LoyaltyRuleFactory.create()  # 5 % of 1,000.00 = 50.00 a delivered order
    people = [CustomerFactory.create() for _ in range(6)]
    for person in people:
        with transaction.atomic():
            credit_accrue(customer_id=person.pk, amount=Decimal("20.00"), purpose="owner")
    orders = [OrderFactory.create(customer=p, status="delivered", delivered_at=timezone.now()) for p in people]
    loyalty_accrue_for_orders(order_ids=[o.pk for o in orders])
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status="returned")

    def work(n: int) -> str:
        if n < 2:
            loyalty_reverse_for_orders(order_ids=[o.pk for o in orders][:: 1 if n else -1])
            return "reversed"
        return spend_credit(people[n % len(people)], Decimal("7.00"), f"spend-{n}")

    outcomes = run_in_threads(6, 80, work)

    assert outcomes["reversed"] == 2 and outcomes["spent"] + outcomes["balance_spent"] == 78
    reversals = list(LedgerEntry.objects.filter(kind="reversal").values_list("amount", flat=True))
    assert len(reversals) == 6 and all(Decimal("-50.00") <= amount < 0 for amount in reversals)
    assert min(LedgerEntry.objects.values_list("balance_after", flat=True)) >= 0
    total = sum(LoyaltyAccount.objects.values_list("balance", flat=True), Decimal("0"))
    assert total == 6 * Decimal("70.00") - outcomes["spent"] * Decimal("7.00") + sum(reversals) >= 0
    assert_ledger_exact({person.pk for person in people})
