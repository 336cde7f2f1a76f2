"""``{% card_link customer_id "missed_call" %}``: a customer's card as the console links to it, signed for the reader
(``crm.call.access``), so an operator's click opens it and a typed id does not."""

from typing import Any

from django import template

from crm.call.access import card_url

register = template.Library()


@register.simple_tag(takes_context=True)
def card_link(context: dict[str, Any], customer_id: int, reason: str) -> str:
    return card_url(customer_id, reason, context["request"].user)
