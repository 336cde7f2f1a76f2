"""The ledger: expiry, the owner's adjustments, and the database's refusal of a negative balance."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from loyalty.errors import LoyaltyError
from loyalty.models import LedgerEntry, LoyaltyAccount
from loyalty.selectors import customer_balance
from loyalty.services import credit_accrue, credit_adjust, credit_expire_due
from loyalty.tasks import credit_expire_due_task
from shop.schedules import SCHEDULES
from tests.factories import CustomerFactory, make_manager, make_owner

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def accrue(customer_id: int, amount: str, days: int | None) -> LedgerEntry:
    with transaction.atomic():
        entry = credit_accrue(
            customer_id=customer_id, amount=Decimal(amount), purpose="owner",
            expires_at=None if days is None else NOW + timedelta(days=days),
        )  # fmt: skip
    assert entry is not None
    return entry


def test_expiry_run_twice_expires_once() -> None:
    customer = CustomerFactory.create()
    accrue(customer.pk, "100.00", 10)
    accrue(customer.pk, "40.00", 30)
    later = NOW + timedelta(days=11)
    assert credit_expire_due(now=later) == 1
    assert credit_expire_due(now=later) == 0
    assert LoyaltyAccount.objects.get(pk=customer.pk).balance == Decimal("40.00")
    expiries = LedgerEntry.objects.filter(customer=customer, kind="expiry")
    assert list(expiries.values_list("amount", "balance_after")) == [(Decimal("-100.00"), Decimal("40.00"))]


def test_expiry_takes_only_what_was_not_spent() -> None:
    owner = make_owner()
    customer = CustomerFactory.create()
    accrue(customer.pk, "100.00", 10)
    with time_machine.travel(NOW, tick=False):
        credit_adjust(
            customer_id=customer.pk, amount=Decimal("-70.00"), reason="Paid part of order by phone", user=owner
        )
    credit_expire_due(now=NOW + timedelta(days=11))
    assert LedgerEntry.objects.get(customer=customer, kind="expiry").amount == Decimal("-30.00")
    assert LoyaltyAccount.objects.get(pk=customer.pk).balance == Decimal("0.00")


def test_the_nightly_task_is_registered_and_expires() -> None:
    assert SCHEDULES["loyalty.expire"].crontab == ("15", "2")
    customer = CustomerFactory.create()
    accrue(customer.pk, "10.00", 1)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        assert credit_expire_due_task.delay().get() == 1


def test_the_balance_shows_what_expires_when() -> None:
    customer = CustomerFactory.create()
    accrue(customer.pk, "100.00", 10)
    accrue(customer.pk, "40.00", 30)
    accrue(customer.pk, "5.00", None)
    balance = customer_balance(customer.pk, now=NOW)
    assert balance.balance == Decimal("145.00")
    assert [(e.expires_at - NOW).days for e in balance.expiring] == [10, 30]
    assert [e.amount for e in balance.expiring] == [Decimal("100.00"), Decimal("40.00")]
    # Past its date but not yet posted by the night run: no longer counted.
    assert customer_balance(customer.pk, now=NOW + timedelta(days=11)).balance == Decimal("45.00")


def test_the_owner_adjusts_a_balance_with_a_reason() -> None:
    customer = CustomerFactory.create()
    entry = credit_adjust(
        customer_id=customer.pk, amount=Decimal("250.00"), reason="Apology for a late delivery", user=make_owner()
    )
    assert (entry.kind, entry.balance_after, entry.reason) == (
        "adjustment",
        Decimal("250.00"),
        "Apology for a late delivery",
    )


def test_an_adjustment_without_a_reason_is_refused() -> None:
    customer = CustomerFactory.create()
    with pytest.raises(LoyaltyError) as error:
        credit_adjust(customer_id=customer.pk, amount=Decimal("10"), reason="  ", user=make_owner())
    assert error.value.code == "reason_required"
    assert not LedgerEntry.objects.exists()


def test_a_manager_cannot_adjust_a_balance() -> None:
    customer = CustomerFactory.create()
    with pytest.raises(LoyaltyError) as error:
        credit_adjust(customer_id=customer.pk, amount=Decimal("10"), reason="why not", user=make_manager())
    assert error.value.status == 403
    assert not LedgerEntry.objects.exists()


def test_an_adjustment_cannot_take_the_balance_below_zero() -> None:
    customer = CustomerFactory.create()
    accrue(customer.pk, "10.00", None)
    with pytest.raises(LoyaltyError) as error:
        credit_adjust(customer_id=customer.pk, amount=Decimal("-10.01"), reason="correction", user=make_owner())
    assert error.value.code == "insufficient_balance"
    assert LoyaltyAccount.objects.get(pk=customer.pk).balance == Decimal("10.00")


def test_the_database_refuses_a_negative_balance_even_without_the_service() -> None:
    customer = CustomerFactory.create()
    accrue(customer.pk, "10.00", None)
    with pytest.raises(IntegrityError), transaction.atomic():
        LoyaltyAccount.objects.filter(pk=customer.pk).update(balance=Decimal("-0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            customer=customer, kind="spend", purpose="order_payment", amount=Decimal("-11"), balance_after=Decimal("-1")
        )


def test_the_database_refuses_a_source_entry_that_does_not_exist() -> None:
    customer = CustomerFactory.create()
    lot = accrue(customer.pk, "10.00", None)
    missing = LedgerEntry.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000  # type: ignore[operator]
    rows = [
        LedgerEntry(customer=customer, kind="adjustment", purpose="owner", amount=Decimal("-1"),
                    balance_after=Decimal("9"), source_entry_id=source)
        for source in (lot.pk, missing)
    ]  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create(rows)  # one statement: the good row goes down with the bad one
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()
    LedgerEntry.objects.bulk_create(rows[:1])  # an existing source passes
    assert LedgerEntry.objects.filter(source_entry=lot).count() == 1


def test_the_database_keeps_the_ledger_append_only() -> None:
    customer = CustomerFactory.create()
    lot = accrue(customer.pk, "10.00", 10)
    spare = accrue(customer.pk, "5.00", None)
    credit_expire_due(now=NOW + timedelta(days=11))
    expiry = LedgerEntry.objects.get(kind="expiry")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=spare.pk).delete()  # not even a row nothing names
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=expiry.pk).update(source_entry=spare)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=spare.pk).update(id=spare.pk + 1000)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=spare.pk).update(customer=CustomerFactory.create())
    LedgerEntry.objects.filter(pk=expiry.pk).update(source_entry=lot, reason="kept")  # the same source: allowed
    assert LedgerEntry.objects.filter(source_entry=lot, reason="kept").count() == 1
    assert LedgerEntry.objects.count() == 3


def test_a_ledger_row_needs_a_customer_with_an_account_and_keeps_it() -> None:
    stranger = CustomerFactory.create()  # no account: nothing was ever posted for them
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            customer=stranger, kind="adjustment", purpose="owner", amount=Decimal("1"), balance_after=Decimal("1")
        )
    customer = CustomerFactory.create()
    accrue(customer.pk, "10.00", None)
    with pytest.raises(IntegrityError), transaction.atomic():
        LoyaltyAccount.objects.filter(pk=customer.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        LoyaltyAccount.objects.filter(pk=customer.pk).update(customer=stranger)
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the account's own key, checked now rather than at commit
        cursor.execute("DELETE FROM customers_customer WHERE id = %s", [customer.pk])
    assert "loyalty_loyaltyaccount" in str(refused.value)  # the account keeps the customer the ledger names
    assert LedgerEntry.objects.filter(customer=customer).count() == 1
