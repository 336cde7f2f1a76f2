"""Loyalty in the customer list: filters by credit balance and by an active coupon, registered through
``customers.contrib`` from ``LoyaltyConfig.ready`` (customers sits below loyalty and may not import it).

Both are conditions on ``Customer`` that PostgreSQL plans set-based on a million customers: the balance through the
reverse one-to-one ``Customer.loyalty_account`` (an inner join on the account's primary key, or a range scan of
``loyalty_account_credit`` on ``(balance, customer)`` over the accounts with credit when few reach the sum; the
filter starts at 0.01, so that partial index always serves it), the coupon as ``EXISTS`` over the
partial index ``loyalty_coupon_open`` (migration 0003) of unused, unrevoked coupons.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.contrib import ListExtension, ListFilter
from loyalty.models import Coupon


def _balance_field() -> forms.Field:
    return forms.DecimalField(
        label=_("Credit balance from"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"placeholder": "500"}),
    )


def _coupon_field() -> forms.Field:
    return forms.BooleanField(label=_("Has an active coupon"), required=False)


def balance_at_least(amount: Decimal) -> Q:
    """The stored balance (credit past its date but not yet expired by the nightly run still counts until then)."""
    return Q(loyalty_account__balance__gte=amount)


def has_active_coupon(_ticked: bool) -> Q:
    """An unticked box never reaches here (the form leaves it out)."""
    live = Coupon.objects.filter(
        customer=OuterRef("pk"), used_at__isnull=True, revoked_at__isnull=True, valid_until__gt=timezone.now()
    )
    return Q(Exists(live))


LOYALTY_LIST = ListExtension(
    name="loyalty",
    filters=(
        ListFilter("balance_min", _balance_field, balance_at_least),
        ListFilter("has_coupon", _coupon_field, has_active_coupon),
    ),
    form_rows=(("balance_min", "has_coupon"),),
)
