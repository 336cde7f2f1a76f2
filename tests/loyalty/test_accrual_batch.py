"""Delivered orders accrued in sets: a task's batch is one transaction of a fixed number of queries, posted with
``ON CONFLICT`` inserts, exact to the cent and once only however often or however concurrently it runs."""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import Coupon, LedgerEntry, LoyaltyAccount, LoyaltyRule
from loyalty.services import loyalty_accrue_for_orders, loyalty_reverse_for_orders
from orders.models import Order
from tests.factories import CustomerFactory, LoyaltyRuleFactory, OrderFactory

pytestmark = pytest.mark.django_db

COUPON = {"value_kind": "percent", "value": "10", "valid_days": 30}


def delivered_orders(customers: int, per_customer: int, total: str = "1000.00") -> list[Order]:
    people = [CustomerFactory.create() for _ in range(customers)]
    return [
        OrderFactory.create(customer=person, status="delivered", delivered_at=timezone.now(), total=Decimal(total))
        for _ in range(per_customer)
        for person in people
    ]


def assert_ledger_exact(customer_ids: set[int]) -> None:
    """Each account's balance is the sum of its ledger, and every ``balance_after`` is the running sum."""
    rows: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for customer_id, amount, after in (
        LedgerEntry.objects.filter(customer_id__in=customer_ids)
        .order_by("pk")
        .values_list("customer_id", "amount", "balance_after")
    ):
        rows[customer_id].append((amount, after))
    for customer_id in customer_ids:
        running = Decimal("0.00")
        for amount, after in rows[customer_id]:
            running += amount
            assert after == running >= 0
        account = LoyaltyAccount.objects.filter(pk=customer_id).first()
        assert (account.balance if account else Decimal("0.00")) == running


def test_a_batch_accrued_twice_posts_each_order_once_with_running_balances() -> None:
    LoyaltyRuleFactory.create()  # 5 %
    LoyaltyRuleFactory.create(kind="next_order_coupon", params=COUPON)
    orders = delivered_orders(customers=15, per_customer=3, total="999.90")  # 5 % = 49.995 → 50.00, half up

    assert loyalty_accrue_for_orders(order_ids=[o.pk for o in orders]) == 45
    assert loyalty_accrue_for_orders(order_ids=[o.pk for o in orders]) == 45

    customers = {o.customer_id for o in orders}
    assert LedgerEntry.objects.filter(kind="accrual").count() == 45
    assert set(LedgerEntry.objects.values_list("amount", flat=True)) == {Decimal("50.00")}
    assert Coupon.objects.count() == 45
    assert len(set(Coupon.objects.values_list("code", flat=True))) == 45
    assert set(LoyaltyAccount.objects.values_list("balance", flat=True)) == {Decimal("150.00")}
    assert_ledger_exact(customers)


def test_a_batch_takes_a_fixed_number_of_queries_whatever_its_size() -> None:
    LoyaltyRuleFactory.create()
    LoyaltyRuleFactory.create(kind="next_order_coupon", params=COUPON)
    small, large = delivered_orders(customers=3, per_customer=1), delivered_orders(customers=40, per_customer=2)

    with CaptureQueriesContext(connection) as few:
        loyalty_accrue_for_orders(order_ids=[o.pk for o in small])
    with CaptureQueriesContext(connection) as many:
        loyalty_accrue_for_orders(order_ids=[o.pk for o in large])

    assert len(many.captured_queries) == len(few.captured_queries) <= 16
    assert LedgerEntry.objects.count() == 83


def test_a_budget_cap_stops_a_batch_at_the_lots_it_can_pay() -> None:
    rule = LoyaltyRuleFactory.create(budget_cap=Decimal("120.00"))
    orders = delivered_orders(customers=5, per_customer=1)  # 50.00 each

    loyalty_accrue_for_orders(order_ids=[o.pk for o in orders])
    loyalty_accrue_for_orders(order_ids=[o.pk for o in orders])

    assert LedgerEntry.objects.count() == 2
    assert LoyaltyRule.objects.get(pk=rule.pk).budget_spent == Decimal("100.00")
    paid = set(LedgerEntry.objects.values_list("order_id", flat=True))
    assert paid == {orders[0].pk, orders[1].pk}  # in order id order


def test_returning_one_order_of_a_batch_reverses_exactly_its_lot() -> None:
    LoyaltyRuleFactory.create()
    orders = delivered_orders(customers=1, per_customer=3)
    loyalty_accrue_for_orders(order_ids=[o.pk for o in orders])
    Order.objects.filter(pk=orders[1].pk).update(status="returned")

    loyalty_reverse_for_orders(order_ids=[orders[1].pk])
    loyalty_reverse_for_orders(order_ids=[orders[1].pk])

    reversal = LedgerEntry.objects.get(kind="reversal")
    assert reversal.source_entry is not None
    assert (reversal.amount, reversal.source_entry.order_id) == (Decimal("-50.00"), orders[1].pk)
    assert LoyaltyAccount.objects.get(pk=orders[0].customer_id).balance == Decimal("100.00")
    assert_ledger_exact({orders[0].customer_id})


def test_in_a_batch_a_first_order_rule_pays_only_customers_on_their_first_delivered_order() -> None:
    LoyaltyRuleFactory.create(order_kind="first")
    newcomer = delivered_orders(customers=1, per_customer=1)[0]
    regular = delivered_orders(customers=1, per_customer=2)

    loyalty_accrue_for_orders(order_ids=[newcomer.pk, *(o.pk for o in regular)])

    assert list(LedgerEntry.objects.values_list("order_id", flat=True)) == [newcomer.pk]


def test_a_coupon_code_that_collides_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalty.services import accrual
    from tests.factories import CouponFactory

    taken = CouponFactory.create(code="CTAKEN00001")
    LoyaltyRuleFactory.create(kind="next_order_coupon", params=COUPON)
    orders = delivered_orders(customers=2, per_customer=1)
    draws = iter(["CTAKEN00001", "CFRESH00001", "CFRESH00002"])
    monkeypatch.setattr(accrual, "new_code", lambda prefix="": next(draws))

    loyalty_accrue_for_orders(order_ids=[o.pk for o in orders])

    issued = Coupon.objects.exclude(pk=taken.pk).order_by("issued_for_order_id")
    assert [(c.issued_for_order_id, c.code) for c in issued] == [
        (orders[0].pk, "CFRESH00002"),
        (orders[1].pk, "CFRESH00001"),
    ]
