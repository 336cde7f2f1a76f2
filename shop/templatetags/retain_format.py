"""Template filters for the values every page shows: money in the shop's currency, phones as people read them."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from shop.models import ShopSettings
from shop.money import format_money
from shop.phones import format_phone

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """``{{ order.total|money:order.currency }}``; without a currency, the shop's own (settings are cached)."""
    return format_money(amount, currency or ShopSettings.load().currency)


@register.filter
def phone(e164: str | None) -> str:
    return format_phone(e164) if e164 else ""


@register.filter
def approximate(count: int | None) -> str:
    """A large count rounded for reading, in the reader's number format: ``1 034 567`` → ``1.0 M`` (``1,0 млн``)."""
    if count is None:
        return ""
    if count >= 1_000_000:
        return _("%(value)s M") % {"value": number_format(count / 1_000_000, 1)}
    if count >= 1_000:
        return _("%(value)s K") % {"value": number_format(count / 1_000, 1)}
    return str(count)
