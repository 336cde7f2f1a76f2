"""What a campaign offers one recipient, from its loyalty rule, and the message that tells them, in their language.

Offers: a win-back rule gives a personal coupon whose value follows the owner's curve at the customer's churn risk
(``loyalty.engine.evaluate.win_back_value``, the quote's own formula); a next-order coupon rule gives its coupon;
a cumulative-tier rule gives nothing new — the message announces the tier reached and the next step. The cost of a
coupon is its nominal value on one order: the fixed sum, or the percent of the customer's average order (the
editor's estimate uses the same formula in SQL, ``loyalty.preview.offer_value_sql``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from loyalty.campaigns.models import Campaign
from loyalty.engine.evaluate import win_back_value
from loyalty.engine.params import FIXED, PERCENT, CouponParams, CumulativeParams, WinBackParams, parse_params
from shop.money import format_money

CENT = Decimal("0.01")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Standing:
    """What the offer computation needs to know about one recipient."""

    churn_risk: float | None = None
    predicted_clv: Decimal | None = None
    average_value: Decimal = Decimal("0")
    delivered_orders: int = 0


@dataclass(frozen=True)
class OfferPlan:
    """A coupon to issue (``value_kind``/``value``, cost on one order), or none (``value_kind`` empty)."""

    value_kind: str = ""
    value: Decimal = Decimal("0")
    cost: Decimal = Decimal("0")
    percent_now: Decimal | None = None
    next_percent: Decimal | None = None
    orders_to_next: int | None = None

    @property
    def issues_coupon(self) -> bool:
        return bool(self.value_kind) and self.value > 0


def _cost(value_kind: str, value: Decimal, average: Decimal) -> Decimal:
    amount = value if value_kind == FIXED else average * value / 100
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _tiers(params: CumulativeParams, standing: Standing) -> OfferPlan:
    orders = Decimal(standing.delivered_orders)
    reached = [tier for tier in params.tiers if orders >= tier[0]]
    ahead = [tier for tier in params.tiers if orders < tier[0]]
    return OfferPlan(
        percent_now=reached[-1][1] if reached else Decimal("0"),
        next_percent=ahead[0][1] if ahead else None,
        orders_to_next=int(ahead[0][0] - orders) if ahead else None,
    )


def offer_plan(campaign: Campaign, standing: Standing) -> OfferPlan:
    rule = campaign.rule
    if rule is None:
        return OfferPlan()
    params = parse_params(rule.kind, rule.params)
    if isinstance(params, WinBackParams):
        value = win_back_value(params, standing.churn_risk, standing.predicted_clv)
        value = value.quantize(Decimal("1") if params.value_kind == PERCENT else CENT, rounding=ROUND_HALF_UP)
        return OfferPlan(params.value_kind, value, _cost(params.value_kind, value, standing.average_value))
    if isinstance(params, CouponParams):
        return OfferPlan(
            params.value_kind, params.value, _cost(params.value_kind, params.value, standing.average_value)
        )
    if isinstance(params, CumulativeParams) and params.basis == "orders":
        return _tiers(params, standing)
    return OfferPlan()


def _percent(value: Decimal) -> str:
    return f"{formats.number_format(value.normalize() if value == value.to_integral() else value, use_l10n=True)} %"


def offer_text(plan: OfferPlan, currency: str) -> str:
    """The offer in words, in the active language."""
    if plan.issues_coupon:
        return _percent(plan.value) if plan.value_kind == PERCENT else format_money(plan.value, currency)
    if plan.percent_now is None:
        return ""
    now = _("your discount is now %(percent)s") % {"percent": _percent(plan.percent_now)}
    if plan.next_percent is None or plan.orders_to_next is None:
        return now
    step = ngettext(
        "%(count)d more order to %(percent)s", "%(count)d more orders to %(percent)s", plan.orders_to_next
    ) % {"count": plan.orders_to_next, "percent": _percent(plan.next_percent)}
    return f"{now}, {step}"


@dataclass(frozen=True)
class Text:
    subject: str
    email: str
    sms: str


def render(campaign: Campaign, language: str, values: dict[str, Any]) -> Text:
    """The campaign's templates in ``language`` with the placeholders ({name}, {offer}, {code}, {expiry}, {link})
    filled; an unknown placeholder is left as written."""
    template = campaign.template_for(language)

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))), text or "")

    return Text(fill(template.get("subject", "")), fill(template.get("email", "")), fill(template.get("sms", "")))


def placeholder_values(
    *, name: str, plan: OfferPlan, code: str, expiry: datetime | None, link: str, language: str, currency: str
) -> dict[str, str]:
    with translation.override(language):
        return {
            "name": name or _("dear customer"),
            "offer": offer_text(plan, currency),
            "code": code,
            "expiry": formats.date_format(expiry, "SHORT_DATE_FORMAT") if expiry else "",
            "link": link,
        }


__all__ = ["FIXED", "PERCENT", "OfferPlan", "Standing", "Text", "offer_plan", "placeholder_values", "render"]
