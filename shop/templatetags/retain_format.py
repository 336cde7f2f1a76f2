"""Template filters for the values every page shows: money in the shop's currency, phones as people read them."""

from decimal import Decimal

from django import template

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
