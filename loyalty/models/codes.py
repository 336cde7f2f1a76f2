"""Codes a customer brings to checkout (coupons, promo codes, referral codes) and the redemptions that used them."""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from loyalty.models.rules import LoyaltyRule, money_field
from orders.models import Order


class ValueKind(models.TextChoices):
    PERCENT = "percent", _("Percent of the order")
    FIXED = "fixed", _("Fixed sum")


class Coupon(models.Model):
    """A single-use coupon of one customer. Used by a conditional UPDATE (``used_at IS NULL``), so of any number
    of concurrent redemptions exactly one takes it."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="loyalty_coupons")
    rule = models.ForeignKey(LoyaltyRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupons")
    value_kind = models.CharField(_("kind"), max_length=10, choices=ValueKind.choices)
    value = money_field(_("value"))
    min_order = money_field(_("minimum order"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"))
    issued_for_order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    redemption = models.ForeignKey(
        "loyalty.Redemption", null=True, blank=True, on_delete=models.SET_NULL, related_name="coupons"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(value__gt=0), name="loyalty_coupon_value_positive"),
            # One coupon per delivered order and rule: a replayed delivery issues nothing more.
            models.UniqueConstraint(
                fields=["issued_for_order", "rule"],
                condition=Q(issued_for_order__isnull=False),
                name="loyalty_coupon_once_per_order",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["customer", "valid_until"], name="loyalty_coupon_customer"),
            # The customer list's "has an active coupon": a semi-join probe per listed customer that reads only
            # the unused, unrevoked coupons (a small share once a programme has run for a while).
            models.Index(
                fields=["customer", "valid_until"],
                condition=Q(used_at__isnull=True, revoked_at__isnull=True),
                name="loyalty_coupon_open",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PromoBatch(models.Model):
    """Codes generated for one campaign under a promo rule, with limits per code and per customer."""

    rule = models.ForeignKey(LoyaltyRule, on_delete=models.PROTECT, related_name="promo_batches")
    name = models.CharField(_("campaign"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=10, blank=True)
    uses_per_code = models.PositiveIntegerField(_("uses per code"), default=1)
    uses_per_customer = models.PositiveIntegerField(_("uses per customer"), default=1)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    deactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deactivated_at = models.DateTimeField(_("switched off"), null=True, blank=True)

    class Meta:
        verbose_name = _("promo code batch")
        verbose_name_plural = _("promo code batches")

    def __str__(self) -> str:
        return self.name


class PromoCode(models.Model):
    batch = models.ForeignKey(PromoBatch, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(_("code"), max_length=40, unique=True)
    uses = models.PositiveIntegerField(_("uses"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("promo code")
        verbose_name_plural = _("promo codes")

    def __str__(self) -> str:
        return self.code


class PromoCodeUse(models.Model):
    code = models.ForeignKey(PromoCode, on_delete=models.PROTECT, related_name="uses_made")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    redemption = models.OneToOneField("loyalty.Redemption", on_delete=models.CASCADE, related_name="promo_use")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["customer", "code"], name="loyalty_promo_use_customer")]

    def __str__(self) -> str:
        return f"{self.code_id} by {self.customer_id}"


class ReferralCode(models.Model):
    """Each customer's own code to give to friends: one per customer, random (it names no one)."""

    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="referral_code")
    code = models.CharField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("referral code")
        verbose_name_plural = _("referral codes")

    def __str__(self) -> str:
        return self.code


class ReferralUse(models.Model):
    """A new customer who came with a referral code: one per new customer (unique), rewarded when their first
    order is delivered."""

    referral_code = models.ForeignKey(ReferralCode, on_delete=models.PROTECT, related_name="uses")
    referee = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="referral_use")
    redemption = models.OneToOneField(
        "loyalty.Redemption", null=True, blank=True, on_delete=models.SET_NULL, related_name="referral_use"
    )
    rewarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.referral_code_id} → {self.referee_id}"


class RedemptionState(models.TextChoices):
    APPLIED = "applied", _("Applied")
    REVERSED = "reversed", _("Reversed")


class Redemption(models.Model):
    """A quote applied to an order: what it took off, what credit it spent, and under which idempotency key."""

    idempotency_key = models.CharField(max_length=300, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="loyalty_redemptions")
    order_source = models.CharField(_("order source"), max_length=60)
    order_external_id = models.CharField(_("order"), max_length=120)
    subtotal = money_field(_("subtotal"))
    discount = money_field(_("discount"))
    credit_spent = money_field(_("credit spent"))
    total = money_field(_("total"))
    offers = models.JSONField(default=list)
    lines = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=RedemptionState.choices, default=RedemptionState.APPLIED)
    created_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        constraints: ClassVar = [
            # One applied redemption per order: a second checkout of the same order cannot take a second discount.
            models.UniqueConstraint(
                fields=["order_source", "order_external_id"],
                condition=Q(state="applied"),
                name="loyalty_redemption_one_per_order",
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0) & Q(credit_spent__gte=0) & Q(total__gte=0),
                name="loyalty_redemption_amounts_not_negative",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["customer", "created_at"], name="loyalty_redemption_customer")]

    def __str__(self) -> str:
        return f"{self.order_source}:{self.order_external_id}"


class RedemptionOffer(models.Model):
    """One rule's part of a redemption: what each programme gave away, for its budget and its report."""

    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="offer_rows")
    rule = models.ForeignKey(LoyaltyRule, null=True, on_delete=models.SET_NULL, related_name="redemption_offers")
    kind = models.CharField(max_length=20)
    amount = money_field(_("amount"))

    class Meta:
        indexes: ClassVar = [models.Index(fields=["rule"], name="loyalty_redemption_offer_rule")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"
