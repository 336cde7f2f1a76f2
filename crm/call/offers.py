"""What the operator may offer a caller, worth how much, and what to do first.

The offers are loyalty's: whatever the owner's active rules give this customer right now (VIP perks, the win-back
offer at the customer's churn risk, a loyalty tier's discount), the credit the customer may spend and the coupons
they hold, read with the caller card (``loyalty.selectors.offers_from_columns``). Nothing here decides who gets
what — a rule the owner changes changes what the operator says — only how it is put to the operator: a title, the
value and the reason, and one recommended action.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from shop.money import format_money

if TYPE_CHECKING:
    from loyalty.selectors import OfferNow

PRIORITY_DELIVERY = "priority_delivery"
FREE_DELIVERY = "free_delivery"
SPECIAL_TERMS = "special_terms"
WIN_BACK = "win_back"
TIER_DISCOUNT = "tier_discount"
CREDIT = "credit"
COUPON = "coupon"


@dataclass(frozen=True)
class Offer:
    """Something the operator may offer now: what it is, what it is worth (empty for a perk without a money
    value), why it applies, and the rule that gives it."""

    code: str
    title: str
    reason: str
    value: str = ""
    rule: str = ""
    coupon: str = ""


def _value(kind: str, value: Decimal, currency: str) -> str:
    if kind == "percent":
        return f"{value.normalize():f}%" if value == value.to_integral() else f"{value:f}%"
    if kind == "fixed":
        return format_money(value, currency)
    return ""


def _code_and_title(offer: OfferNow) -> tuple[str, str]:
    if offer.perk:
        titles = {
            PRIORITY_DELIVERY: _("Priority delivery"),
            FREE_DELIVERY: _("Free delivery"),
            SPECIAL_TERMS: _("Special terms"),
        }
        return offer.perk, titles.get(offer.perk, offer.perk)
    if offer.kind == WIN_BACK:
        return WIN_BACK, _("Win-back discount")
    if offer.kind == "cumulative":
        return TIER_DISCOUNT, _("Loyalty tier discount")
    if offer.kind == CREDIT:
        return CREDIT, _("Credit balance")
    return COUPON, _("Coupon %(code)s") % {"code": offer.code}


def operator_offer(offer: OfferNow, currency: str) -> Offer:
    code, title = _code_and_title(offer)
    return Offer(
        code=code,
        title=title,
        reason=offer.reason,
        value=_value(offer.value_kind, offer.value, currency),
        rule=offer.rule_name,
        coupon=offer.code,
    )


ORDER = (PRIORITY_DELIVERY, FREE_DELIVERY, SPECIAL_TERMS, WIN_BACK, TIER_DISCOUNT, CREDIT, COUPON)


def operator_offers(offers: list[OfferNow], currency: str) -> list[Offer]:
    """Loyalty's offers as the operator reads them: perks first (they cost nothing to promise), then the win-back
    offer, the tier discount, the credit balance and the coupons."""
    return sorted((operator_offer(offer, currency) for offer in offers), key=lambda offer: ORDER.index(offer.code))


def recommended_action(*, has_complaints: bool, offers: list[Offer], orders_count: int) -> str:
    """One sentence: what to do with this caller first. An open complaint comes before any offer (an unhappy
    customer offered a discount before an apology hears that the shop was not listening); a customer slipping
    away is won back before a loyal one is pleased; what costs the shop nothing new (credit and coupons already
    given) comes before the tier discount."""
    first: dict[str, Offer] = {}
    for offer in offers:
        first.setdefault(offer.code, offer)
    if has_complaints:
        return _("Apologise for the open complaint first, then help.")
    if WIN_BACK in first:
        return _("A valued customer who has not bought for a while: offer the win-back discount of %(value)s.") % {
            "value": first[WIN_BACK].value
        }
    for perk, sentence in (
        (PRIORITY_DELIVERY, _("An important customer: offer priority delivery with the next order.")),
        (FREE_DELIVERY, _("An important customer: offer free delivery with the next order.")),
    ):
        if perk in first:
            return sentence
    if CREDIT in first:
        return _("Remind the customer of the %(value)s credit they can spend on the next order.") % {
            "value": first[CREDIT].value
        }
    if COUPON in first:
        return _("Remind the customer of coupon %(coupon)s: %(value)s off.") % {
            "coupon": first[COUPON].coupon,
            "value": first[COUPON].value,
        }
    if TIER_DISCOUNT in first:
        return _("Mention the loyalty discount of %(value)s on the next order.") % {"value": first[TIER_DISCOUNT].value}
    if orders_count == 0:
        return _("No orders yet: help with the first one.")
    return _("Help with the question and log the call.")
