"""Races against the real PostgreSQL: many threads, each on its own connection, spending one balance or one
coupon at once. The account row lock and the ledger's checks must let exactly the affordable ones through."""

import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, transaction

from customers.models import Customer
from loyalty.engine.evaluate import Cart
from loyalty.errors import LoyaltyError
from loyalty.models import Coupon, LedgerEntry, LoyaltyAccount, Redemption
from loyalty.services import credit_accrue, loyalty_redeem
from tests.factories import CouponFactory, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(threads: int, attempts: int, work: Callable[[int], str]) -> Counter[str]:
    """``attempts`` calls of ``work(n)`` spread over ``threads`` threads that start together; counts outcomes."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker(offset: int) -> None:
        start.wait()
        try:
            for n in range(offset, attempts, threads):
                outcome = work(n)
                with lock:
                    outcomes[outcome] += 1
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(offset,)) for offset in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcomes


def spend_credit(customer: Customer, amount: Decimal, key: str) -> str:
    """One checkout of a 5,000.00 cart paying ``amount`` of credit: "spent", or the refusal's code."""
    try:
        loyalty_redeem(
            customer=customer, cart=Cart(total=Decimal("5000.00")), order_source="race", order_external_id=key,
            idempotency_key=key, credit=amount,
        )  # fmt: skip
    except LoyaltyError as error:
        return error.code
    return "spent"


def test_a_thousand_concurrent_redemptions_of_one_unit_spend_a_balance_of_500_exactly() -> None:
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("500.00"), purpose="owner")

    outcomes = run_in_threads(16, 1000, lambda n: spend_credit(customer, Decimal("1.00"), f"race-{n}"))

    assert outcomes == Counter({"spent": 500, "balance_spent": 500})
    assert LoyaltyAccount.objects.get(pk=customer.pk).balance == Decimal("0.00")
    spends = LedgerEntry.objects.filter(customer=customer, kind="spend")
    assert spends.count() == 500
    assert min(spends.values_list("balance_after", flat=True)) == Decimal("0.00")
    assert Redemption.objects.filter(customer=customer).count() == 500


def test_a_hundred_concurrent_uses_of_a_single_use_coupon_give_one_success() -> None:
    coupon = CouponFactory.create()

    def redeem(n: int) -> str:
        try:
            loyalty_redeem(
                customer=coupon.customer, cart=Cart(total=Decimal("1000.00")), order_source="web",
                order_external_id=f"C-{n}", idempotency_key=f"coupon-{n}", code=coupon.code,
            )  # fmt: skip
        except LoyaltyError as error:
            return error.code
        return "ok"

    outcomes = run_in_threads(20, 100, redeem)

    assert outcomes == Counter({"ok": 1, "used_code": 99})
    used = Coupon.objects.get(pk=coupon.pk)
    assert used.used_at is not None
    assert Redemption.objects.filter(customer=coupon.customer).get().discount == Decimal("300.00")
