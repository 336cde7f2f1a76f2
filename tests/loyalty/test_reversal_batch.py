"""Cancelled and returned orders reversed in sets: a task's batch is one transaction of a fixed number of queries,
exact to the cent and once only."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from customers.models import Customer
from loyalty.engine.evaluate import Cart
from loyalty.models import Coupon, LedgerEntry, PromoCode, PromoCodeUse, Redemption
from loyalty.services import (
    credit_accrue,
    loyalty_accrue_for_orders,
    loyalty_redeem,
    loyalty_reverse_for_orders,
    promo_batch_generate,
)
from orders.models import Order
from tests.factories import CouponFactory, CustomerFactory, LoyaltyRuleFactory, OrderFactory, make_owner
from tests.loyalty.test_accrual import balance
from tests.loyalty.test_accrual_batch import assert_ledger_exact

pytestmark = pytest.mark.django_db


def earned_and_spent(customer: Customer, n: int) -> tuple[Order, Order]:
    """A delivered order that earned 50.00 (5 % of 1,000) and a later order that spent 30.00 of credit and a
    coupon; both then returned."""
    earned = OrderFactory.create(customer=customer, status="delivered", delivered_at=timezone.now(),
                                 total=Decimal("1000.00"))  # fmt: skip
    loyalty_accrue_for_orders(order_ids=[earned.pk])
    spent = OrderFactory.create(customer=customer, source="web", external_id=f"S-{customer.pk}-{n}", status="paid")
    loyalty_redeem(
        customer=customer, cart=Cart(total=Decimal("1000.00")), order_source="web",
        order_external_id=spent.external_id, idempotency_key=f"k-{customer.pk}-{n}", credit=Decimal("30.00"),
        code=CouponFactory.create(customer=customer).code,
    )  # fmt: skip
    Order.objects.filter(pk__in=[earned.pk, spent.pk]).update(status="returned")
    return earned, spent


def returned_batch(customers: int) -> list[int]:
    people = [CustomerFactory.create() for _ in range(customers)]
    for person in people:
        with transaction.atomic():
            credit_accrue(customer_id=person.pk, amount=Decimal("100.00"), purpose="owner")
    return [order.pk for n, person in enumerate(people) for order in earned_and_spent(person, n)]


def test_a_batch_reversal_takes_a_fixed_number_of_queries_whatever_its_size() -> None:
    LoyaltyRuleFactory.create()
    small, large = returned_batch(1), returned_batch(6)

    with CaptureQueriesContext(connection) as few:
        loyalty_reverse_for_orders(order_ids=small)
    with CaptureQueriesContext(connection) as many:
        loyalty_reverse_for_orders(order_ids=large)

    assert len(many.captured_queries) == len(few.captured_queries) <= 25
    assert LedgerEntry.objects.filter(kind="reversal").count() == 7 * 2


def test_a_batch_reversed_twice_reverses_each_order_once() -> None:
    LoyaltyRuleFactory.create()
    batch = returned_batch(4)
    before = {c: balance(c) for c in Customer.objects.values_list("pk", flat=True)}

    loyalty_reverse_for_orders(order_ids=batch)
    rows = LedgerEntry.objects.count()
    loyalty_reverse_for_orders(order_ids=batch[::-1])

    assert LedgerEntry.objects.count() == rows
    assert all(balance(c) == before[c] - Decimal("20.00") + Decimal("30.00") for c in before)
    assert set(Redemption.objects.values_list("state", flat=True)) == {"reversed"}
    assert not Coupon.objects.filter(used_at__isnull=False).exists()
    assert_ledger_exact(set(before))


def test_one_batch_takes_back_what_an_order_earned_and_refunds_what_another_spent_with_running_balances() -> None:
    LoyaltyRuleFactory.create()
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("100.00"), purpose="owner")
    earned, spent = earned_and_spent(customer, 0)  # the 30.00 spent came from the 50.00 earned (it expires first)
    assert balance(customer.pk) == Decimal("120.00")

    loyalty_reverse_for_orders(order_ids=[spent.pk, earned.pk])

    rows = LedgerEntry.objects.filter(kind="reversal").order_by("pk")
    assert list(rows.values_list("order_id", "amount", "balance_after", "reason")) == [
        (earned.pk, Decimal("-20.00"), Decimal("100.00"), "already_spent:30.00"),
        (spent.pk, Decimal("30.00"), Decimal("130.00"), ""),
    ]
    assert balance(customer.pk) == Decimal("130.00")
    assert_ledger_exact({customer.pk})


def test_orders_in_the_batch_that_are_not_cancelled_or_returned_are_left_alone() -> None:
    LoyaltyRuleFactory.create()
    customer = CustomerFactory.create()
    delivered = OrderFactory.create(customer=customer, status="delivered", delivered_at=timezone.now(),
                                    total=Decimal("1000.00"))  # fmt: skip
    loyalty_accrue_for_orders(order_ids=[delivered.pk])

    assert loyalty_reverse_for_orders(order_ids=[delivered.pk]) == 0

    assert not LedgerEntry.objects.filter(kind="reversal").exists()
    assert balance(customer.pk) == Decimal("50.00")


def test_a_batch_gives_back_the_promo_uses_and_the_budget_its_orders_took() -> None:
    rule = LoyaltyRuleFactory.create(kind="promo_batch", params={"value_kind": "fixed", "value": "100"},
                                     budget_cap=Decimal("1000.00"))  # fmt: skip
    batch = promo_batch_generate(user=make_owner(), rule=rule, name="Spring", count=1, uses_per_code=10,
                                 uses_per_customer=10)  # fmt: skip
    code = PromoCode.objects.get(batch=batch)
    orders = []
    for n in range(3):
        customer = CustomerFactory.create()
        orders.append(OrderFactory.create(customer=customer, source="web", external_id=f"P-{n}", status="paid"))
        loyalty_redeem(customer=customer, cart=Cart(total=Decimal("1000.00")), order_source="web",
                       order_external_id=f"P-{n}", idempotency_key=f"p-{n}", code=code.code)  # fmt: skip
    Order.objects.filter(pk__in=[o.pk for o in orders[:2]]).update(status="cancelled")

    loyalty_reverse_for_orders(order_ids=[o.pk for o in orders])

    code.refresh_from_db()
    rule.refresh_from_db()
    assert (code.uses, PromoCodeUse.objects.count(), rule.budget_spent) == (1, 1, Decimal("100.00"))


@pytest.mark.parametrize(
    ("stored", "language", "words"),
    [
        ("already_spent:30.00", "en", "30.00 already spent"),
        ("already_spent:30.00", "ru", "30.00 уже потрачено"),
        # Written before the code, in English whatever the worker spoke: read in the reader's language too.
        ("30.00 already spent", "ru", "30.00 уже потрачено"),
    ],
)
def test_a_reversals_reason_reads_in_the_readers_language(stored: str, language: str, words: str) -> None:
    entry = LedgerEntry(kind="reversal", purpose="order_returned", amount=Decimal("-20.00"), reason=stored)
    with translation.override(language):
        assert entry.reason_text == words


def test_the_owners_words_for_an_adjustment_read_as_typed() -> None:
    entry = LedgerEntry(kind="adjustment", purpose="owner", amount=Decimal("5.00"), reason="already_spent:1")
    with translation.override("ru"):
        assert entry.reason_text == "already_spent:1"
