"""Reads of loyalty for the card, the timeline, the personal-data export and the API: balance with what expires
when, active coupons, the referral code, the ledger. Each takes a customer id and does a fixed number of queries,
so the customers registry can call them per card without knowing loyalty's tables."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import CharField, Count, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.contacts import normalize_email
from customers.models import Customer, CustomerEmail
from customers.selectors import phone_owner, survivor_of
from loyalty.errors import LoyaltyError
from loyalty.models import (
    Coupon,
    LedgerEntry,
    LoyaltyAccount,
    LoyaltyRule,
    LoyaltyRuleChange,
    PromoBatch,
    PromoCode,
    ReferralCode,
    RuleKind,
)
from shop.models import ShopSettings
from shop.permissions import user_can
from shop.phones import normalize_phone
from shop.roles import Capability


@dataclass(frozen=True)
class Expiring:
    expires_at: datetime
    amount: Decimal


@dataclass(frozen=True)
class Balance:
    balance: Decimal
    expiring: list[Expiring]  # soonest first; credit with no date is not listed


def customer_balance(customer_id: int, *, now: datetime | None = None) -> Balance:
    """Two queries: the account and the open lots that have a date."""
    moment = now or timezone.now()
    account = LoyaltyAccount.objects.filter(pk=customer_id).first()
    lots = (
        LedgerEntry.objects.filter(customer_id=customer_id, remaining__gt=0, expires_at__isnull=False)
        .order_by("expires_at", "pk")
        .values_list("expires_at", "remaining")
    )
    by_date: dict[datetime, Decimal] = {}
    for expires_at, remaining in lots:
        if expires_at is not None:
            by_date[expires_at] = by_date.get(expires_at, Decimal("0")) + remaining
    expired = sum((amount for when, amount in by_date.items() if when <= moment), Decimal("0"))
    balance = (account.balance if account else Decimal("0.00")) - expired
    return Balance(balance, [Expiring(when, amount) for when, amount in by_date.items() if when > moment])


def customer_active_coupons(customer_id: int, *, now: datetime | None = None) -> list[Coupon]:
    moment = now or timezone.now()
    return list(
        Coupon.objects.filter(
            customer_id=customer_id, used_at__isnull=True, revoked_at__isnull=True, valid_until__gt=moment
        ).order_by("valid_until", "pk")
    )


def customer_referral_code(customer_id: int) -> ReferralCode | None:
    return ReferralCode.objects.filter(customer_id=customer_id, is_active=True).first()


def customer_ledger(customer_id: int, limit: int = 100) -> list[LedgerEntry]:
    """Newest first (the ``loyalty_entry_customer`` index)."""
    return list(
        LedgerEntry.objects.filter(customer_id=customer_id)
        .select_related("rule")
        .order_by("-created_at", "-pk")[:limit]
    )


def customer_export(customer_id: int) -> dict[str, Any]:
    """Loyalty's part of a personal-data export: the balance, coupons, referral code and every ledger row."""
    code = ReferralCode.objects.filter(customer_id=customer_id).first()
    return {
        "credit_balance": str(customer_balance(customer_id).balance),
        "referral_code": code.code if code else None,
        "coupons": [
            {
                "code": c.code,
                "value_kind": c.value_kind,
                "value": str(c.value),
                "valid_until": c.valid_until.isoformat(),
                "used_at": c.used_at.isoformat() if c.used_at else None,
            }
            for c in Coupon.objects.filter(customer_id=customer_id).order_by("pk")
        ],
        "ledger": [
            {
                "at": e.created_at.isoformat(),
                "kind": e.kind,
                "purpose": e.purpose,
                "amount": str(e.amount),
                "balance_after": str(e.balance_after),
                "expires_at": e.expires_at.isoformat() if e.expires_at else None,
                "reason": e.reason_text,
            }
            for e in LedgerEntry.objects.filter(customer_id=customer_id).order_by("created_at", "pk")
        ],
    }


def rules_for_user(user: Any) -> list[LoyaltyRule]:
    """The rules list: the owner (``configure``) and managers (``view_rules``, read-only)."""
    from django.core.exceptions import PermissionDenied

    if not (user_can(user, Capability.CONFIGURE) or user_can(user, Capability.VIEW_RULES)):
        raise PermissionDenied
    return list(LoyaltyRule.objects.order_by("-is_active", "name", "pk"))


def rule_for_user(user: Any, pk: int) -> LoyaltyRule:
    """The one accessor for a rule addressed by an id from a URL: ``view_rules`` or ``configure``."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    if not (user_can(user, Capability.CONFIGURE) or user_can(user, Capability.VIEW_RULES)):
        raise PermissionDenied
    rule = LoyaltyRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404
    return rule


def rule_history(rule_id: int, limit: int = 50) -> list[LoyaltyRuleChange]:
    return list(LoyaltyRuleChange.objects.filter(rule_id=rule_id).select_related("changed_by")[:limit])


def _rules_reader(user: Any) -> None:
    from django.core.exceptions import PermissionDenied

    if not (user_can(user, Capability.CONFIGURE) or user_can(user, Capability.VIEW_RULES)):
        raise PermissionDenied


def promo_batches(*, rule_id: int | None = None) -> list[PromoBatch]:
    """Newest first, each with ``code_count`` and ``use_count``: one grouped query over the codes."""
    batches = PromoBatch.objects.select_related("rule", "created_by", "deactivated_by")
    if rule_id is not None:
        batches = batches.filter(rule_id=rule_id)
    return list(
        batches.annotate(code_count=Count("codes"), use_count=Coalesce(Sum("codes__uses"), Value(0))).order_by(
            "-created_at", "-pk"
        )
    )


def promo_batches_for_user(user: Any) -> list[PromoBatch]:
    """Every batch: the owner (``configure``) and managers (``view_rules``, read-only)."""
    _rules_reader(user)
    return promo_batches()


def promo_batch_for_user(user: Any, pk: int) -> PromoBatch:
    """The one accessor for a batch addressed by an id from a URL: ``view_rules`` or ``configure``."""
    from django.http import Http404

    _rules_reader(user)
    batch = PromoBatch.objects.select_related("rule").filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


def promo_batch_codes(batch_id: int) -> Iterator[tuple[str, int]]:
    """The batch's codes and their uses, streamed in code order (for the export)."""
    return PromoCode.objects.filter(batch_id=batch_id).order_by("code").values_list("code", "uses").iterator(5000)


def customer_for_checkout(*, customer_id: int | None = None, phone: str = "", email: str = "") -> Customer:
    """The customer a checkout names: by id, else phone (any format), else email; a merged duplicate answers as its
    survivor. Raises ``PhoneError``/``EmailError`` for an unreadable contact and :class:`LoyaltyError`
    ``customer_not_found`` when nobody matches."""
    customer: Customer | None = None
    if customer_id:
        customer = Customer.objects.filter(pk=customer_id).first()
    elif phone:
        customer = phone_owner(normalize_phone(phone, ShopSettings.load().phone_region))
    elif email:
        row = CustomerEmail.objects.filter(address=normalize_email(email)).select_related("customer").first()
        customer = row.customer if row else None
    if customer is None:
        raise LoyaltyError(
            "customer_not_found", "No customer matches the id, phone or email given.", field="customer", status=404
        )
    return survivor_of(customer)


@dataclass(frozen=True)
class OfferNow:
    """One thing the shop offers this customer now, in words: a rule's offer (``rule_id`` set), the credit
    balance (``kind="credit"``) or a coupon the customer holds (``kind="coupon"``, ``code`` set). ``value_kind`` is
    ``percent``, ``fixed`` (money) or empty for a perk without a money value."""

    kind: str
    rule_id: int | None
    rule_name: str
    value_kind: str
    value: Decimal
    reason: str
    perk: str = ""
    code: str = ""
    valid_until: datetime | None = None


def spendable_credit_column(now: datetime) -> Subquery:
    """The customer's spendable credit — open lots not past their date (the nightly expiry may not have run) — as
    a column of a read over customers (``OuterRef("pk")``), ``None`` for none: the checkout quote's and the caller
    card's one query."""
    lots = (
        LedgerEntry.objects.filter(customer_id=OuterRef("pk"), remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by()
        .values("customer_id")
    )
    return Subquery(lots.annotate(total=Sum("remaining")).values("total"))


def offer_columns(now: datetime, today: date) -> dict[str, Any]:
    """What loyalty reads for the offers of a customer now, besides the customer's facts, as columns of a read
    over customers (the caller card's one query): the spendable credit, the active coupons (soonest to lapse
    first) and the active rules' versions. :func:`offers_from_columns` turns them into offers."""
    from loyalty.rulebook import rule_versions_column

    coupons = Coupon.objects.filter(
        customer_id=OuterRef("pk"), used_at__isnull=True, revoked_at__isnull=True, valid_until__gt=now
    ).order_by("valid_until", "pk")
    coupon = JSONObject(
        code="code",
        rule_id="rule_id",
        rule_name="rule__name",
        rule_kind="rule__kind",
        value_kind="value_kind",
        value=Cast("value", CharField()),
        valid_until="valid_until",
    )
    return {
        "offer_credit": spendable_credit_column(now),
        "offer_coupons": ArraySubquery(coupons.values(coupon=coupon)),
        "offer_rules": rule_versions_column(today),
    }


def _coupon_rule_title(coupon: Mapping[str, Any]) -> str:
    """A coupon's rule as ``LoyaltyRule.title`` reads it (the owner's name, else the kind's label); none: empty."""
    if coupon["rule_id"] is None:
        return ""
    return str(coupon["rule_name"] or RuleKind(coupon["rule_kind"]).label)


def offers_from_columns(
    row: Mapping[str, Any], *, customer: Customer, score: Any, delivered: Any, now: datetime
) -> list[OfferNow]:
    """What loyalty's active rules give ``customer`` right now, before any cart, with each offer's value and
    reason: the rules' standing offers (tiers, win-back by churn risk, VIP perks; control group and budgets
    respected), then the spendable credit balance, then the active coupons. ``row`` holds the
    :func:`offer_columns`, ``delivered`` the customer's ``orders.selectors.DeliveredSummary`` and ``score`` the
    score row (``None``: not scored), all read in one query; the rules come from the rulebook this process parsed
    already, so no query is made unless a rule changed since."""
    from loyalty.engine.standing import standing_offers
    from loyalty.facts import facts_of
    from loyalty.reasons import reason_text
    from loyalty.rulebook import rulebook_of_versions

    today = timezone.localdate(now)
    book = rulebook_of_versions(row["offer_rules"])
    offers = [
        OfferNow(
            kind=offer.kind,
            rule_id=offer.rule_id,
            rule_name=book.names[offer.rule_id],
            value_kind=offer.value_kind,
            value=offer.value,
            reason=reason_text(offer.reason),
            perk=offer.perk,
        )
        for offer in standing_offers(facts_of(customer, delivered, score), list(book.rules), today)
    ]
    credit = row["offer_credit"] or Decimal("0.00")
    if credit > 0:
        offers.append(OfferNow("credit", None, "", "fixed", credit, _("Credit balance the customer may spend")))
    return offers + [
        OfferNow(
            "coupon",
            coupon["rule_id"],
            _coupon_rule_title(coupon),
            coupon["value_kind"],
            Decimal(coupon["value"]),
            _("Coupon %(code)s") % {"code": coupon["code"]},
            code=coupon["code"],
            valid_until=datetime.fromisoformat(coupon["valid_until"]),
        )
        for coupon in row["offer_coupons"]
    ]
