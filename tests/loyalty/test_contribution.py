"""Loyalty through the customers registry: the card's panel and timeline, the personal-data download and erasure,
and a merge, each run by the page or service that composes every app."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.privacy.erasure import customer_erase_personal_data
from crm.privacy.export import customer_personal_data
from customers.merging import customer_merge
from loyalty.models import LedgerEntry, LoyaltyAccount
from loyalty.services import credit_accrue, referral_code_for
from tests.factories import CouponFactory, CustomerFactory, make_owner

pytestmark = pytest.mark.django_db


def give(customer_id: int, amount: str, days: int | None = None, reason: str = "") -> None:
    expires = None if days is None else timezone.now() + timedelta(days=days)
    with transaction.atomic():
        credit_accrue(
            customer_id=customer_id, amount=Decimal(amount), purpose="owner", expires_at=expires, reason=reason
        )


def test_the_card_shows_the_balance_what_expires_coupons_and_the_referral_code(
    client_for: Callable[[str | None], Client],
) -> None:
    customer = CustomerFactory.create()
    give(customer.pk, "300.00", days=20)
    coupon = CouponFactory.create(customer=customer)
    code = referral_code_for(customer.pk).code
    page = (
        client_for("Manager").get(reverse("customer_card", args=[customer.pk])).content.decode().replace("\u00a0", " ")
    )
    assert 'data-section="bonuses"' in page
    assert "300 ₽" in page
    assert coupon.code in page
    assert code in page
    assert 'data-entry="bonus"' in page


def test_a_merge_moves_the_duplicates_credit_to_the_survivor() -> None:
    survivor, duplicate = CustomerFactory.create(), CustomerFactory.create()
    give(duplicate.pk, "120.00", days=30)
    merge = customer_merge(survivor=survivor, duplicate=duplicate, user=make_owner())
    assert merge.moved["loyalty_credit_lots"] == 1
    assert LoyaltyAccount.objects.get(pk=survivor.pk).balance == Decimal("120.00")
    assert LoyaltyAccount.objects.get(pk=duplicate.pk).balance == Decimal("0.00")


def test_the_download_holds_the_ledger_and_the_erasure_keeps_amounts_only() -> None:
    customer = CustomerFactory.create()
    give(customer.pk, "80.00", reason="Sorry, Ivan")
    referral_code_for(customer.pk)
    data = customer_personal_data(customer)
    assert data["loyalty"]["ledger"][0]["amount"] == "80.00"
    customer_erase_personal_data(customer=customer, user=make_owner())
    entry = LedgerEntry.objects.get(customer=customer)
    assert (entry.amount, entry.reason) == (Decimal("80.00"), "")
    assert customer_personal_data(customer)["loyalty"]["referral_code"] is not None  # kept but switched off
