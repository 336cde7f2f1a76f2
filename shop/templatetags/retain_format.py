"""Template filters for the values every page shows: money in the shop's currency, numbers in the reader's format,
phones as people read them. Every number a page shows goes through ``number`` (or ``money``), so one page never
says "2920" beside "3 000", nor "5.82" beside "217 538,50 ₽"."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from shop.models import ShopSettings
from shop.money import CENT, CURRENCY_SYMBOLS, NBSP, format_money
from shop.phones import format_phone

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """``{{ order.total|money:order.currency }}``; without a currency, the shop's own (settings are cached). Grouped
    and with the decimal mark of the reader's language, like ``number``; whole sums drop their zero kopecks."""
    if amount is None:
        return format_money(None)
    amount = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    places = 0 if amount == amount.to_integral_value() else 2
    code = currency or ShopSettings.load().currency
    symbol = CURRENCY_SYMBOLS.get(code, code)
    return f"{number(amount, places)}{NBSP}{symbol}"


@register.filter
def number(value: int | float | Decimal | str | None, decimal_places: int | None = None) -> str:
    """``{{ count|number }}``, ``{{ share|number:1 }}``: grouped thousands and the decimal mark of the reader's
    language (``2 920``, ``5,8`` in Russian; ``2,920``, ``5.8`` in English). ``None`` and ``""`` show as nothing."""
    if value is None or value == "":
        return ""
    if decimal_places is not None:
        # Rounded here, half up: Django's number_format cuts a float's extra digits off (5.826 → "5.82").
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-int(decimal_places)), rounding=ROUND_HALF_UP)
        if value == 0:
            value = abs(value)  # never "-0,0"
    return number_format(value, decimal_pos=decimal_places, use_l10n=True, force_grouping=True)


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
