"""Loyalty's part of the customer card: the credit balance with what expires when, active coupons and the referral
code (a panel under the score), and the ledger on the timeline. Read through ``loyalty.selectors``; registered
from ``LoyaltyConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from customers.contrib import CardPanel, TimelineEntry, TimelineSource
from loyalty.selectors import customer_active_coupons, customer_balance, customer_ledger, customer_referral_code
from shop.models import ShopSettings
from shop.permissions import user_can
from shop.roles import Capability

if TYPE_CHECKING:
    from customers.models import Customer


def bonuses_panel(customer: Customer, user: Any) -> dict[str, Any]:
    """Four small queries: the account, its dated lots, the coupons, the referral code. The quote form is shown
    to whoever may quote (operators included); its answer is fetched when asked, so the card pays nothing for it."""
    return {
        "balance": customer_balance(customer.pk),
        "coupons": customer_active_coupons(customer.pk),
        "referral_code": customer_referral_code(customer.pk),
        "currency": ShopSettings.load().currency,
        "customer_id": customer.pk,
        "can_adjust": user_can(user, Capability.CONFIGURE),
        "can_quote": user_can(user, Capability.QUOTE),
    }


def ledger_entries(customer: Customer, limit: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(kind="bonus", at=entry.created_at, template="loyalty/_timeline_entry.html", object=entry)
        for entry in customer_ledger(customer.pk, limit=limit)
    ]


# Under the score (40) and above the figures (50); the ledger after the other sources of one moment.
CARD_PANELS = (CardPanel("bonuses", "loyalty/card_bonuses.html", "main", 45, bonuses_panel),)
TIMELINE = (TimelineSource("bonuses", 60, ledger_entries),)
