"""Codes: issuing coupons, generating promo batches and referral codes, and reading a code presented at checkout.

Codes come from ``secrets`` over an alphabet without look-alike characters (no 0/O, 1/I/L): ten characters of 31
give 2⁴⁹ possibilities, so guessing a live code among a batch of 10,000 takes ~10¹⁰ tries.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, CustomerEmail, CustomerPhone
from loyalty.engine.evaluate import CodeOffer
from loyalty.engine.params import ReferralParams
from loyalty.errors import CodeError
from loyalty.models import Coupon, PromoBatch, PromoCode, PromoCodeUse, ReferralCode, ReferralUse, RuleKind
from loyalty.rulebook import active_rules, engine_rule
from shop.permissions import user_can
from shop.roles import Capability

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_BATCH = 100_000


def new_code(prefix: str = "", length: int = CODE_LENGTH) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


def coupon_issue(
    *, customer_id: int, value_kind: str, value: Decimal, valid_until: datetime, rule: Any = None,
    order: Any = None, min_order: Decimal | None = None,
) -> Coupon | None:  # fmt: skip
    """A single-use coupon. Idempotent per (order, rule): a replayed delivery returns ``None``. A code collision
    (1 in 2⁴⁹) is retried with a fresh code."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Coupon.objects.create(
                    code=new_code("C"), customer_id=customer_id, rule=rule, value_kind=value_kind, value=value,
                    min_order=min_order, valid_until=valid_until, issued_for_order=order,
                )  # fmt: skip
        except IntegrityError:
            if order is not None and Coupon.objects.filter(issued_for_order=order, rule=rule).exists():
                return None
    raise RuntimeError("could not draw a unique coupon code")


def coupons_issue_bulk(coupons: list[Coupon]) -> list[Coupon]:
    """Personal coupons for a whole batch (a campaign's recipients) in one insert, each with a fresh code. A code
    collision (1 in 2⁴⁹ per pair) rolls the insert back and draws every code again."""
    for _attempt in range(5):
        for coupon in coupons:
            coupon.code = new_code("C")
        try:
            with transaction.atomic():
                return Coupon.objects.bulk_create(coupons, batch_size=1000)
        except IntegrityError:
            continue
    raise RuntimeError("could not draw unique coupon codes")


def promo_batch_generate(
    *, user: Any, rule: Any, name: str, count: int, uses_per_code: int = 1, uses_per_customer: int = 1,
    valid_until: datetime | None = None, prefix: str = "",
) -> PromoBatch:  # fmt: skip
    """Generate ``count`` unguessable codes for a promo rule. Needs ``configure``. Codes that collide with existing
    ones are skipped by the insert and drawn again until the batch is full."""
    from django.core.exceptions import PermissionDenied

    if not user_can(user, Capability.CONFIGURE):
        raise PermissionDenied(_("Only the owner may generate promo codes."))
    if rule.kind != RuleKind.PROMO_BATCH:
        raise ValueError("promo codes belong to a promo-batch rule")
    if not 1 <= count <= MAX_BATCH:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH} codes")
    prefix = normalize_code(prefix)[:10]
    with transaction.atomic():
        batch = PromoBatch.objects.create(
            rule=rule, name=name, prefix=prefix, uses_per_code=uses_per_code, uses_per_customer=uses_per_customer,
            valid_until=valid_until, created_by=user,
        )  # fmt: skip
        made = 0
        while made < count:
            rows = [PromoCode(batch=batch, code=new_code(prefix)) for _ in range(min(count - made, 5000))]
            PromoCode.objects.bulk_create(rows, ignore_conflicts=True)
            made = PromoCode.objects.filter(batch=batch).count()
    return batch


def promo_batch_deactivate(*, user: Any, batch: PromoBatch, now: datetime | None = None) -> PromoBatch:
    """Switch a batch off: its codes are refused at quote and redeem from now on (``inactive_code``). Needs
    ``configure``. A conditional UPDATE (``is_active``), so switching off twice keeps the first who and when; a
    redemption already holding the batch's code row finishes first (it read the batch before this commit)."""
    from django.core.exceptions import PermissionDenied

    if not user_can(user, Capability.CONFIGURE):
        raise PermissionDenied(_("Only the owner may switch promo codes off."))
    PromoBatch.objects.filter(pk=batch.pk, is_active=True).update(
        is_active=False, deactivated_at=now or timezone.now(), deactivated_by=user
    )
    batch.refresh_from_db()
    return batch


def referral_code_for(customer_id: int) -> ReferralCode:
    """The customer's referral code, made on first use (one per customer by a unique key)."""
    existing = ReferralCode.objects.filter(customer_id=customer_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ReferralCode.objects.create(customer_id=customer_id, code=new_code("R"))
    except IntegrityError:
        return ReferralCode.objects.get(customer_id=customer_id)


@dataclass
class Presented:
    """A code found valid for this customer: what the engine needs, and the row to mark at redemption."""

    offer: CodeOffer
    coupon: Coupon | None = None
    promo: PromoCode | None = None
    referral: ReferralCode | None = None


def code_resolve(*, raw: str, customer: Customer, now: datetime, first_order: bool, lock: bool = False) -> Presented:
    """Read a code presented at checkout, or raise :class:`CodeError` with a code a client can branch on:
    ``unknown_code``, ``expired_code``, ``used_code``, ``code_limit_reached``, ``self_referral``,
    ``referral_reused``, ``referral_not_first_order``. With ``lock`` the code's row is locked (redemption)."""
    code = normalize_code(raw)
    coupon = _locked(Coupon.objects.filter(code=code), lock).first()
    if coupon is not None:
        return _coupon(coupon, customer, now)
    promo = _locked(PromoCode.objects.select_related("batch__rule").filter(code=code), lock).first()
    if promo is not None:
        return _promo(promo, customer, now)
    referral = _locked(ReferralCode.objects.filter(code=code, is_active=True), lock).first()
    if referral is not None:
        return _referral(referral, customer, now, first_order)
    raise _unknown(code)


def _locked(queryset: Any, lock: bool) -> Any:
    return queryset.select_for_update(of=("self",)) if lock else queryset


def _unknown(code: str) -> CodeError:
    return CodeError(
        "unknown_code",
        _("No coupon, promo or referral code “%(code)s” exists.") % {"code": code},
        field="code",
        status=404,
    )


def _coupon(coupon: Coupon, customer: Customer, now: datetime) -> Presented:
    if coupon.customer_id != customer.pk or coupon.revoked_at is not None:
        raise _unknown(coupon.code)
    if coupon.used_at is not None:
        raise CodeError(
            "used_code", _("Coupon %(code)s was already used on %(date)s.") % {"code": coupon.code, "date": f"{coupon.used_at:%Y-%m-%d}"},
            field="code", status=409,
        )  # fmt: skip
    if coupon.valid_until <= now:
        raise _expired(coupon.code, coupon.valid_until)
    rule = None  # the coupon's rule set its conditions when it was issued
    offer = CodeOffer(coupon.code, "coupon", coupon.value_kind, coupon.value, rule, coupon.min_order)
    return Presented(offer=offer, coupon=coupon)


def _expired(code: str, moment: datetime) -> CodeError:
    return CodeError(
        "expired_code",
        _("Code %(code)s expired on %(date)s.") % {"code": code, "date": f"{moment:%Y-%m-%d}"},
        field="code",
    )


def _promo(promo: PromoCode, customer: Customer, now: datetime) -> Presented:
    batch = promo.batch
    rule = batch.rule
    if not batch.is_active:
        raise CodeError(
            "inactive_code",
            _("Promo code %(code)s belongs to the campaign “%(batch)s”, which the shop switched off on %(date)s.")
            % {"code": promo.code, "batch": batch.name, "date": f"{batch.deactivated_at or now:%Y-%m-%d}"},
            field="code",
        )
    if not (promo.is_active and rule.is_active):
        raise CodeError("inactive_code", _("Promo code %(code)s is switched off.") % {"code": promo.code}, field="code")
    if batch.valid_until is not None and batch.valid_until <= now:
        raise _expired(promo.code, batch.valid_until)
    if promo.uses >= batch.uses_per_code:
        raise CodeError(
            "used_code", _("Promo code %(code)s has been used as many times as it may be.") % {"code": promo.code},
            field="code", status=409,
        )  # fmt: skip
    used = PromoCodeUse.objects.filter(customer=customer, code__batch=batch).count()
    if used >= batch.uses_per_customer:
        raise CodeError(
            "code_limit_reached",
            _("This customer has already used codes of the “%(batch)s” campaign %(count)s times, the limit.")
            % {"batch": batch.name, "count": used},
            field="code", status=409,
        )  # fmt: skip
    spec = engine_rule(rule)
    params = spec.params
    offer = CodeOffer(
        promo.code, "promo", getattr(params, "value_kind", "percent"), getattr(params, "value", Decimal(0)), spec
    )
    return Presented(offer=offer, promo=promo)


def _contacts(customer_id: int) -> tuple[set[str], set[str]]:
    phones = set(CustomerPhone.objects.filter(customer_id=customer_id).values_list("number", flat=True))
    emails = set(CustomerEmail.objects.filter(customer_id=customer_id).values_list("address", flat=True))
    return phones, emails


def is_self_referral(referrer: Customer, referee: Customer) -> bool:
    """The same person under two records: the same customer, or a shared phone, email or delivery address."""
    if referrer.pk == referee.pk:
        return True
    phones, emails = _contacts(referrer.pk)
    their_phones, their_emails = _contacts(referee.pk)
    same_address = bool(referrer.address.strip()) and " ".join(referrer.address.lower().split()) == " ".join(
        referee.address.lower().split()
    )
    return bool(phones & their_phones or emails & their_emails or same_address)


def _referral(referral: ReferralCode, customer: Customer, now: datetime, first_order: bool) -> Presented:
    rules = [r for r in active_rules(now.date()) if r.kind == RuleKind.REFERRAL]
    if not rules:
        raise _unknown(referral.code)
    if is_self_referral(referral.customer, customer):
        raise CodeError(
            "self_referral", _("Referral code %(code)s belongs to this same customer (the same record, phone, email or address): a customer cannot refer themselves.") % {"code": referral.code},
            field="code",
        )  # fmt: skip
    if ReferralUse.objects.filter(referee=customer).exists():
        raise CodeError(
            "referral_reused", _("This customer has already come with a referral code; a referral counts once."), field="code", status=409
        )  # fmt: skip
    if not first_order:
        raise CodeError(
            "referral_not_first_order", _("Referral code %(code)s is for a new customer's first order; this customer has ordered before.") % {"code": referral.code},
            field="code",
        )  # fmt: skip
    spec = engine_rule(rules[0])
    params = spec.params
    percent = params.referee_percent if isinstance(params, ReferralParams) else Decimal(0)
    return Presented(offer=CodeOffer(referral.code, "referral", "percent", percent, spec), referral=referral)
