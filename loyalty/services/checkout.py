"""Checkout: the quote (reads only) and the redemption that applies it to an order (writes, exactly once)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from loyalty.engine.evaluate import Cart, CodeOffer, Offer, Quote, evaluate
from loyalty.errors import BalanceError, CodeError, LoyaltyError
from loyalty.facts import checkout_facts
from loyalty.models import LoyaltyRule, PromoCode, PromoCodeUse, Redemption, RedemptionOffer, ReferralUse
from loyalty.rulebook import rulebook
from loyalty.services.codes import Presented, code_resolve
from loyalty.services.ledger import account_lock, credit_spend
from shop.money import format_money


@dataclass
class CheckoutQuote:
    quote: Quote
    balance: Decimal
    rule_names: dict[int, str] = field(default_factory=dict)
    presented: Presented | None = None


def _evaluate(
    customer: Customer, cart: Cart, code: str, credit: Decimal | None, now: datetime, lock: bool
) -> CheckoutQuote:
    facts, balance = checkout_facts(customer, now=now)
    today = timezone.localdate(now)
    book = rulebook(today)
    presented = None
    codes: list[CodeOffer] = []
    if code.strip():
        presented = code_resolve(raw=code, customer=customer, now=now, first_order=facts.is_first_order, lock=lock)
        codes.append(presented.offer)
    quote = evaluate(
        facts=facts, cart=cart, rules=list(book.rules), today=today, codes=codes, balance=balance,
        credit_share_percent=book.credit_share, credit_wanted=credit,
    )  # fmt: skip
    return CheckoutQuote(quote=quote, balance=balance, rule_names=book.names, presented=presented)


def loyalty_quote(
    *, customer: Customer, cart: Cart, code: str = "", credit: Decimal | None = None, now: datetime | None = None
) -> CheckoutQuote:
    """What applies to this customer and cart now. Changes nothing and locks nothing; a bad code raises
    :class:`CodeError`. ``credit`` is the credit the customer wants to use (``None``: as much as allowed)."""
    return _evaluate(customer, cart, code, credit, now or timezone.now(), lock=False)


def loyalty_redeem(
    *,
    customer: Customer,
    cart: Cart,
    order_source: str,
    order_external_id: str,
    idempotency_key: str,
    code: str = "",
    credit: Decimal = Decimal("0"),
    now: datetime | None = None,
) -> Redemption:
    """Apply the quote to an order: the coupon marked used, the promo use counted, the referral recorded, the
    rules' budgets taken, the credit debited, in one transaction.

    Locks, in order: the customer's credit account (so one customer's redemptions queue one behind the other), the
    presented code's row, the rules' rows (a conditional UPDATE of their budget). Idempotent on
    ``idempotency_key`` (unique): the same key returns the redemption it made. Refusals raise
    :class:`LoyaltyError` and leave nothing behind: ``balance_spent`` when the credit was spent by a concurrent
    request, ``used_code`` when the coupon was, ``order_already_redeemed`` for a second redemption of one order.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        account = account_lock(customer.pk)
        done = Redemption.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return done
        result = _evaluate(customer, cart, code, credit, moment, lock=True)
        quote = result.quote
        if credit > quote.credit_applied:
            raise _credit_refused(credit, result)
        redemption = _create(customer, quote, result, order_source, order_external_id, idempotency_key, moment)
        if result.presented is not None:
            # A presented coupon or promo code is spent only when its offer is part of the discount: one that
            # lost to a better offer ("best single offer") stays the customer's for a later order.
            applied = {offer.code for offer in quote.offers if offer.code and offer.amount > 0}
            _mark_code(result.presented, customer, redemption, moment, applied=applied)
        _take_budgets(quote.offers)
        if quote.credit_applied > 0:
            credit_spend(account=account, amount=quote.credit_applied, redemption=redemption, now=moment)
    return redemption


def _credit_refused(credit: Decimal, result: CheckoutQuote) -> LoyaltyError:
    if result.balance < credit:
        return BalanceError(
            "balance_spent",
            _(
                "The customer's credit balance is %(balance)s, less than the %(credit)s asked for: it was spent or expired."
            )
            % {"balance": format_money(result.balance), "credit": format_money(credit)},
            field="credit",
        )
    return LoyaltyError(
        "credit_over_limit",
        _("Credit may pay at most %(limit)s of this order, not %(credit)s.")
        % {"limit": format_money(result.quote.credit_available), "credit": format_money(credit)},
        field="credit",
    )


def offer_json(offer: Offer, names: dict[int, str]) -> dict[str, Any]:
    return {
        "rule_id": offer.rule_id,
        "rule_name": names.get(offer.rule_id or 0, ""),
        "kind": offer.kind,
        "code": offer.code,
        "amount": str(offer.amount),
        "percent": None if offer.percent is None else str(offer.percent),
        "perk": offer.perk,
        "reason": {"key": offer.reason.key, "params": {k: _plain(v) for k, v in offer.reason.params.items()}},
    }


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def _create(
    customer: Customer, quote: Quote, result: CheckoutQuote, source: str, external_id: str, key: str, moment: datetime
) -> Redemption:
    try:
        with transaction.atomic():
            redemption = Redemption.objects.create(
                idempotency_key=key, customer=customer, order_source=source, order_external_id=external_id,
                subtotal=quote.subtotal, discount=quote.discount, credit_spent=quote.credit_applied,
                total=quote.total, offers=[offer_json(o, result.rule_names) for o in quote.offers],
                lines=[{"key": k, "discount": str(v)} for k, v in quote.line_discounts], created_at=moment,
            )  # fmt: skip
    except IntegrityError as error:
        raise LoyaltyError(
            "order_already_redeemed",
            _("Order %(order)s already has a redemption; cancel it before applying another.")
            % {"order": f"{source}:{external_id}"},
            field="order", status=409,
        ) from error  # fmt: skip
    RedemptionOffer.objects.bulk_create(
        [
            RedemptionOffer(redemption=redemption, rule_id=o.rule_id, kind=o.kind, amount=o.amount)
            for o in quote.offers
            if o.amount > 0
        ]
    )
    return redemption


def _mark_code(
    presented: Presented, customer: Customer, redemption: Redemption, moment: datetime, *, applied: set[str]
) -> None:
    if presented.coupon is not None and presented.coupon.code in applied:
        taken = (
            type(presented.coupon)
            .objects.filter(pk=presented.coupon.pk, used_at__isnull=True)
            .update(used_at=moment, redemption=redemption)
        )
        if not taken:  # only reachable without the row lock; kept as the guarantee of single use
            raise CodeError(
                "used_code",
                _("Coupon %(code)s was just used by another request.") % {"code": presented.coupon.code},
                field="code",
                status=409,
            )
    if presented.promo is not None and presented.promo.code in applied:
        promo = presented.promo
        taken = PromoCode.objects.filter(pk=promo.pk, uses__lt=promo.batch.uses_per_code).update(uses=F("uses") + 1)
        if not taken:
            raise CodeError(
                "used_code",
                _("Promo code %(code)s was just used up by another request.") % {"code": promo.code},
                field="code",
                status=409,
            )
        PromoCodeUse.objects.create(code=promo, customer=customer, redemption=redemption, created_at=moment)
    if presented.referral is not None:
        try:
            with transaction.atomic():
                ReferralUse.objects.create(referral_code=presented.referral, referee=customer, redemption=redemption)
        except IntegrityError as error:
            raise CodeError(
                "referral_reused",
                _("This customer has already come with a referral code; a referral counts once."),
                field="code",
                status=409,
            ) from error


def _take_budgets(offers: tuple[Offer, ...]) -> None:
    """Each rule's budget grows by its offer, in rule id order (a fixed lock order); a rule whose budget cannot take
    it refuses the whole redemption (another request took the last of it)."""
    for offer in sorted((o for o in offers if o.rule_id is not None and o.amount > 0), key=lambda o: o.rule_id or 0):
        taken = (
            LoyaltyRule.objects.filter(pk=offer.rule_id or 0)
            .filter(Q(budget_cap__isnull=True) | Q(budget_spent__lte=F("budget_cap") - offer.amount))
            .update(budget_spent=F("budget_spent") + offer.amount)
        )
        if not taken:
            raise LoyaltyError(
                "budget_spent",
                _("The budget of a rule in this quote was used up meanwhile; ask for a new quote."),
                status=409,
            )
