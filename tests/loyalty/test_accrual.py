"""What delivered orders earn and what cancelled or returned orders give back, through the order signals."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from loyalty.engine.evaluate import Cart
from loyalty.errors import LoyaltyError
from loyalty.models import Coupon, LedgerEntry, LoyaltyAccount, Redemption, ReferralUse
from loyalty.services import (
    credit_accrue,
    loyalty_accrue_for_orders,
    loyalty_redeem,
    loyalty_reverse_for_orders,
    referral_code_for,
    review_reward_grant,
)
from orders.models import Order
from orders.services import order_change_status
from tests.factories import CustomerFactory, LoyaltyRuleFactory, OrderFactory, make_manager, make_operator

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]


def balance(customer_id: int) -> Decimal:
    account = LoyaltyAccount.objects.filter(pk=customer_id).first()
    return account.balance if account else Decimal("0.00")


def move(order: Order, status: str, capture: Capture) -> None:
    with capture(execute=True):
        order_change_status(order=order, status=status)


def test_a_delivered_order_earns_store_credit_that_expires(django_capture_on_commit_callbacks: Capture) -> None:
    LoyaltyRuleFactory.create()  # 5 %, 90 days
    order = OrderFactory.create(total=Decimal("1999.90"), status="shipped")
    move(order, "delivered", django_capture_on_commit_callbacks)
    entry = LedgerEntry.objects.get(customer=order.customer)
    assert (entry.kind, entry.amount, entry.balance_after) == ("accrual", Decimal("100.00"), Decimal("100.00"))
    assert entry.expires_at is not None
    assert abs(entry.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)


def test_a_replayed_delivery_accrues_once(django_capture_on_commit_callbacks: Capture) -> None:
    LoyaltyRuleFactory.create()
    order = OrderFactory.create(total=Decimal("1000.00"), status="shipped")
    move(order, "delivered", django_capture_on_commit_callbacks)
    loyalty_accrue_for_orders(order_ids=[order.pk])
    loyalty_accrue_for_orders(order_ids=[order.pk])
    assert balance(order.customer_id) == Decimal("50.00")
    assert LedgerEntry.objects.filter(customer=order.customer).count() == 1


def test_a_control_group_customer_earns_nothing() -> None:
    rule = LoyaltyRuleFactory.create(control_share=Decimal("0.9"))
    from loyalty.engine.evaluate import in_control_group

    customers = [CustomerFactory.create() for _ in range(10)]
    orders = [OrderFactory.create(customer=c, status="delivered", delivered_at=timezone.now()) for c in customers]
    loyalty_accrue_for_orders(order_ids=[o.pk for o in orders])
    for customer in customers:
        expected = Decimal("0.00") if in_control_group(rule.pk, customer.pk, Decimal("0.9")) else Decimal("50.00")
        assert balance(customer.pk) == expected


def test_a_return_reverses_what_the_order_earned_and_what_it_spent(django_capture_on_commit_callbacks: Capture) -> None:
    LoyaltyRuleFactory.create()
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("200.00"), purpose="owner")
    order = OrderFactory.create(
        customer=customer, source="web", external_id="R-1", total=Decimal("1000.00"), status="paid"
    )
    loyalty_redeem(
        customer=customer, cart=Cart(total=Decimal("1150.00")), order_source="web", order_external_id="R-1",
        idempotency_key="r1", credit=Decimal("150.00"),
    )  # fmt: skip
    assert balance(customer.pk) == Decimal("50.00")
    move(order, "delivered", django_capture_on_commit_callbacks)
    assert balance(customer.pk) == Decimal("100.00")  # + 5 % of 1,000

    move(order, "returned", django_capture_on_commit_callbacks)

    assert balance(customer.pk) == Decimal("200.00")  # the 50 earned taken back, the 150 spent given back
    kinds = list(LedgerEntry.objects.filter(customer=customer).order_by("pk").values_list("kind", "amount"))
    assert kinds[-2:] == [("reversal", Decimal("-50.00")), ("reversal", Decimal("150.00"))]
    assert Redemption.objects.get(order_external_id="R-1").state == "reversed"
    loyalty_reverse_for_orders(order_ids=[order.pk])
    assert balance(customer.pk) == Decimal("200.00")


def test_a_cancelled_order_gives_its_coupon_back(django_capture_on_commit_callbacks: Capture) -> None:
    from tests.factories import CouponFactory

    coupon = CouponFactory.create()
    order = OrderFactory.create(customer=coupon.customer, source="web", external_id="X-1", status="new")
    loyalty_redeem(
        customer=coupon.customer, cart=Cart(total=Decimal("1000")), order_source="web", order_external_id="X-1",
        idempotency_key="x1", code=coupon.code,
    )  # fmt: skip
    move(order, "cancelled", django_capture_on_commit_callbacks)
    assert Coupon.objects.get(pk=coupon.pk).used_at is None


def test_delivery_issues_a_next_order_coupon_and_a_return_revokes_it(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    LoyaltyRuleFactory.create(
        kind="next_order_coupon", params={"value_kind": "percent", "value": "10", "valid_days": 30}
    )
    order = OrderFactory.create(status="shipped")
    move(order, "delivered", django_capture_on_commit_callbacks)
    coupon = Coupon.objects.get(customer=order.customer)
    assert (coupon.value_kind, coupon.value, coupon.used_at) == ("percent", Decimal("10.00"), None)
    move(order, "returned", django_capture_on_commit_callbacks)
    assert Coupon.objects.get(pk=coupon.pk).revoked_at is not None


def test_a_referred_first_order_rewards_both_sides_once(django_capture_on_commit_callbacks: Capture) -> None:
    LoyaltyRuleFactory.create(kind="referral", params={"referrer_amount": "300", "referee_amount": "200"})
    referrer, newcomer = CustomerFactory.create(), CustomerFactory.create()
    order = OrderFactory.create(customer=newcomer, source="web", external_id="F-1", status="paid")
    loyalty_redeem(
        customer=newcomer, cart=Cart(total=Decimal("1000")), order_source="web", order_external_id="F-1",
        idempotency_key="f1", code=referral_code_for(referrer.pk).code,
    )  # fmt: skip
    move(order, "delivered", django_capture_on_commit_callbacks)
    loyalty_accrue_for_orders(order_ids=[order.pk])
    assert (balance(referrer.pk), balance(newcomer.pk)) == (Decimal("300.00"), Decimal("200.00"))
    assert ReferralUse.objects.get(referee=newcomer).rewarded_at is not None


def test_a_confirmed_review_is_rewarded_once_per_order() -> None:
    LoyaltyRuleFactory.create(kind="review_reward", params={"amount": "150", "expires_days": 60})
    order = OrderFactory.create(status="delivered", delivered_at=timezone.now())
    manager = make_manager()
    assert review_reward_grant(order=order, user=manager) is not None
    assert review_reward_grant(order=order, user=manager) is None
    assert balance(order.customer_id) == Decimal("150.00")


def test_an_operator_cannot_confirm_a_review() -> None:
    from django.core.exceptions import PermissionDenied

    LoyaltyRuleFactory.create(kind="review_reward", params={"amount": "150", "expires_days": 60})
    order = OrderFactory.create(status="delivered", delivered_at=timezone.now())
    with pytest.raises(PermissionDenied):
        review_reward_grant(order=order, user=make_operator())
    assert balance(order.customer_id) == Decimal("0.00")


def test_a_review_of_an_undelivered_order_is_refused() -> None:
    LoyaltyRuleFactory.create(kind="review_reward", params={"amount": "150", "expires_days": 60})
    with pytest.raises(LoyaltyError) as error:
        review_reward_grant(order=OrderFactory.create(status="new"), user=make_manager())
    assert error.value.code == "not_delivered"


def test_the_sweep_accrues_a_delivery_whose_message_was_lost() -> None:
    from loyalty.tasks import loyalty_sweep_task

    LoyaltyRuleFactory.create()
    order = OrderFactory.create(status="delivered", delivered_at=timezone.now(), total=Decimal("1000.00"))
    assert loyalty_sweep_task.delay().get() == 1
    assert loyalty_sweep_task.delay().get() == 1
    assert balance(order.customer_id) == Decimal("50.00")
