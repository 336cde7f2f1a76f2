"""The operator's and manager's quote on a card: "what can I offer this person right now, worth how much". A form
of the cart total and an optional code, and the quote turned into lines a person reads — each discount or credit
with its rule and reason, and the final total. Reads only: the same ``loyalty_quote`` the checkout API calls."""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from loyalty.engine.evaluate import Offer
from loyalty.models import RuleKind
from loyalty.reasons import reason_text
from loyalty.services import CheckoutQuote


class QuoteForm(forms.Form):
    total = forms.DecimalField(
        label=gettext_lazy("Cart total"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    code = forms.CharField(label=gettext_lazy("Promo or referral code"), max_length=60, required=False)


@dataclass(frozen=True)
class QuoteLine:
    title: str
    rule: str
    reason: str
    amount: Decimal
    percent: Decimal | None


def _title(offer: Offer) -> str:
    perks = {
        "priority_delivery": _("Priority delivery"),
        "free_delivery": _("Free delivery"),
        "special_terms": _("Special terms"),
    }
    if offer.perk:
        return perks.get(offer.perk, offer.perk)
    codes = {"coupon": _("Coupon %(code)s"), "promo": _("Promo code %(code)s"), "referral": _("Referral code %(code)s")}
    if offer.kind in codes:
        return codes[offer.kind] % {"code": offer.code}
    return str(RuleKind(offer.kind).label) if offer.kind in RuleKind.values else offer.kind


def quote_lines(result: CheckoutQuote) -> list[QuoteLine]:
    """Each applied offer, the most valuable first, perks (no money value) last."""
    offers = sorted(result.quote.offers, key=lambda o: (o.amount <= 0, -o.amount, o.rule_id or 0))
    return [
        QuoteLine(
            title=_title(offer),
            rule=result.rule_names.get(offer.rule_id or 0, ""),
            reason=reason_text(offer.reason),
            amount=offer.amount,
            percent=offer.percent,
        )
        for offer in offers
    ]
