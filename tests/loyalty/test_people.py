"""Loyalty's part of a merge and of an erasure, called the way the customers registry will call them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from loyalty.models import Coupon, LedgerEntry, LoyaltyAccount, ReferralCode
from loyalty.selectors import customer_active_coupons, customer_balance, customer_export, customer_referral_code
from loyalty.services import (
    credit_accrue,
    loyalty_erase_personal_data,
    loyalty_merge_customers,
    loyalty_reverse_for_orders,
    referral_code_for,
)
from tests.factories import CouponFactory, CustomerFactory, LoyaltyRuleFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_a_merge_moves_credit_with_its_expiry_coupons_and_the_referral_code() -> None:
    survivor, duplicate = CustomerFactory.create(), CustomerFactory.create()
    expires = timezone.now() + timedelta(days=20)
    with transaction.atomic():
        credit_accrue(customer_id=duplicate.pk, amount=Decimal("120.00"), purpose="owner", expires_at=expires)
        credit_accrue(customer_id=survivor.pk, amount=Decimal("30.00"), purpose="owner")
    coupon = CouponFactory.create(customer=duplicate)
    code = referral_code_for(duplicate.pk).code
    with transaction.atomic():
        moved = loyalty_merge_customers(survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    assert moved == {
        "loyalty_credit_lots": 1,
        "loyalty_coupons": 1,
        "loyalty_redemptions": 0,
        "loyalty_referral_codes": 1,
    }
    assert LoyaltyAccount.objects.get(pk=duplicate.pk).balance == Decimal("0.00")
    balance = customer_balance(survivor.pk)
    assert balance.balance == Decimal("150.00")
    assert [(e.expires_at, e.amount) for e in balance.expiring] == [(expires, Decimal("120.00"))]
    assert [c.pk for c in customer_active_coupons(survivor.pk)] == [coupon.pk]
    assert customer_referral_code(survivor.pk).code == code  # type: ignore[union-attr]


def test_a_return_after_a_merge_still_reverses_what_the_order_earned() -> None:
    LoyaltyRuleFactory.create()
    survivor, duplicate = CustomerFactory.create(), CustomerFactory.create()
    order = OrderFactory.create(
        customer=duplicate, status="delivered", delivered_at=timezone.now(), total=Decimal("1000")
    )
    from loyalty.services import loyalty_accrue_for_orders

    loyalty_accrue_for_orders(order_ids=[order.pk])
    with transaction.atomic():
        loyalty_merge_customers(survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    order.customer, order.status = survivor, "returned"
    order.save()
    loyalty_reverse_for_orders(order_ids=[order.pk])
    assert LoyaltyAccount.objects.get(pk=survivor.pk).balance == Decimal("0.00")


def test_erasure_keeps_the_amounts_and_removes_what_names_the_person() -> None:
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("80.00"), purpose="owner", reason="Sorry, Ivan Petrov")
    CouponFactory.create(customer=customer)
    referral_code_for(customer.pk)
    with transaction.atomic():
        counts = loyalty_erase_personal_data(customer_ids=[customer.pk])
    assert counts == {"loyalty_reasons": 1, "loyalty_referral_codes": 1, "loyalty_coupons": 1}
    assert LedgerEntry.objects.get(customer=customer).amount == Decimal("80.00")
    assert LedgerEntry.objects.get(customer=customer).reason == ""
    assert not ReferralCode.objects.get(customer=customer).is_active
    assert Coupon.objects.get(customer=customer).revoked_at is not None


def test_the_export_lists_the_ledger_and_coupons() -> None:
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("80.00"), purpose="owner")
    coupon = CouponFactory.create(customer=customer)
    data = customer_export(customer.pk)
    assert data["credit_balance"] == "80.00"
    assert [c["code"] for c in data["coupons"]] == [coupon.code]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in data["ledger"]] == [("accrual", "80.00", "80.00")]
