"""What the operator may offer a caller, and what to do first: the rules the console and the lookup API show.

Until loyalty's rules reach the phone, the offers follow the importance score alone: priority delivery for the most
valuable customers, and a win-back discount for valuable customers the model thinks are slipping away (DESIGN: the
best customers who are not at risk need none, and a Low customer is not worth a discount to keep). Pure functions
of the score and the card's facts, so each rule is pinned by a test of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from scoring.models import Tier

if TYPE_CHECKING:
    from scoring.models import CustomerScore

# Tiers valuable enough to jump the delivery queue.
PRIORITY_DELIVERY_TIERS = frozenset({Tier.VIP, Tier.HIGH})
# From this churn risk on, a customer above the Low tier is offered a win-back discount.
WIN_BACK_RISK = 0.5
PRIORITY_DELIVERY = "priority_delivery"
WIN_BACK = "win_back"


@dataclass(frozen=True)
class Offer:
    """Something the operator may offer now, with the reason it applies."""

    code: str
    title: str
    reason: str


def offers_for(score: CustomerScore | None) -> list[Offer]:
    """The offers a customer with ``score`` qualifies for, priority delivery first; none without a score."""
    if score is None:
        return []
    offers: list[Offer] = []
    if score.tier in PRIORITY_DELIVERY_TIERS:
        reason = _("%(tier)s customer, importance %(importance)s") % {
            "tier": Tier(score.tier).label,
            "importance": score.importance,
        }
        offers.append(Offer(code=PRIORITY_DELIVERY, title=_("Priority delivery"), reason=reason))
    if score.churn_risk is not None and score.churn_risk >= WIN_BACK_RISK and score.tier != Tier.LOW:
        reason = _("Churn risk %(percent)s%%, last purchase %(days)s days ago") % {
            "percent": score.churn_percent,
            "days": score.recency_days,
        }
        offers.append(Offer(code=WIN_BACK, title=_("Win-back discount"), reason=reason))
    return offers


def recommended_action(*, has_complaints: bool, offers: list[Offer], orders_count: int) -> str:
    """One sentence: what to do with this caller first. An open complaint comes before any offer (an unhappy
    customer offered a discount before an apology hears that the shop was not listening)."""
    codes = {offer.code for offer in offers}
    if has_complaints:
        return _("Apologise for the open complaint first, then help.")
    if WIN_BACK in codes:
        return _("A valued customer who has not bought for a while: offer the win-back discount.")
    if PRIORITY_DELIVERY in codes:
        return _("An important customer: offer priority delivery with the next order.")
    if orders_count == 0:
        return _("No orders yet: help with the first one.")
    return _("Help with the question and log the call.")
