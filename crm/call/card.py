"""The caller's card: what an operator must see the moment the phone rings, composed from every app's selectors.

One function, :func:`caller_card`, serves the lookup API, the operator's console and the screen-pop, with a fixed
number of queries whatever the customer's history, so a ring turns into a card in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from crm.call.offers import Offer, offers_for, recommended_action
from customers.calls import calls_for_customer
from customers.selectors import notes_for_customer
from feedback.selectors import open_complaints_for_customers
from loyalty.campaigns.selectors import customer_campaigns
from orders import selectors as order_selectors
from scoring.selectors import score_for_customer
from shop.models import ShopSettings
from shop.phones import format_phone, normalize_phone

if TYPE_CHECKING:
    from customers.models import Call, Customer, Note
    from orders.models import Order

RECENT_ORDERS = 3
RECENT_NOTES = 3
RECENT_CALLS = 3
RECENT_CAMPAIGNS = 3


@dataclass
class CallerCard:
    customer: Customer
    phones: list[str]
    recent_orders: list[Order]
    notes: list[Note]
    calls: list[Call]
    offers: list[Offer] = field(default_factory=list)
    recommended_action: str = ""
    score: Any = None
    complaints: list[Any] = field(default_factory=list)
    campaigns: list[Any] = field(default_factory=list)

    @property
    def last_order(self) -> Order | None:
        return self.recent_orders[0] if self.recent_orders else None


def lookup_number(raw: str) -> str:
    """The caller's number in E.164, or :class:`shop.phones.PhoneError` saying why it cannot be read."""
    return normalize_phone(raw, ShopSettings.load().phone_region)


def caller_card(customer: Customer, *, with_history: bool = True) -> CallerCard:
    """Everything the operator sees about ``customer``; a bounded number of queries, none per row. The lookup API
    asks ``with_history=False``: a telephony integration needs the verdict, not the notes and past calls."""
    card = CallerCard(
        customer=customer,
        phones=[],
        recent_orders=order_selectors.orders_for_customer(customer, limit=RECENT_ORDERS),
        notes=[],
        calls=[],
        score=score_for_customer(customer.pk),
    )
    if with_history:
        card.phones = [format_phone(p) for p in customer.phones.values_list("number", flat=True)]
        card.notes = notes_for_customer(customer, limit=RECENT_NOTES)
        card.calls = calls_for_customer(customer.pk, limit=RECENT_CALLS)
    card.complaints = complaints_of(customer)
    if with_history:
        # Which campaigns reached the caller, with what offer and whether it was used: "you got our 15 % code".
        card.campaigns = customer_campaigns(customer.pk, limit=RECENT_CAMPAIGNS)
    card.offers = offers_for(customer, score=card.score, currency=ShopSettings.load().currency)
    card.recommended_action = recommended_action(
        has_complaints=bool(card.complaints), offers=card.offers, orders_count=customer.orders_count
    )
    return card


def complaints_of(customer: Customer) -> list[dict[str, Any]]:
    """Open follow-ups from unhappy survey answers: the operator apologises before anything else."""
    rows = []
    for follow_up in open_complaints_for_customers([customer.pk]).get(customer.pk, []):
        response, order = follow_up.response, follow_up.order
        if response is None or order is None:  # the selector returns complaints only; this tells mypy so
            continue
        rows.append(
            {
                "id": follow_up.pk,
                "order": order.external_id,
                "state": follow_up.state,
                "due_at": follow_up.due_at.isoformat(),
                "recommend_score": response.recommend_score,
                "comment": response.comment,
                "summary": _("Order %(order)s: would recommend %(score)s/10. %(comment)s")
                % {"order": order.external_id, "score": response.recommend_score, "comment": response.comment},
            }
        )
    return rows
