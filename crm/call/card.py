"""The caller's card: what an operator must see the moment the phone rings, composed from every app's selectors.

One read serves the lookup API, the operator's console and the screen-pop: :func:`caller_card_for_number` (the API)
and :func:`caller_card` (the console, which found the customer already). The customer, the score, the newest
orders, the delivered orders' summary, the open complaints, and loyalty's credit, coupons and active rule versions
are ONE query, each part a column supplied by its own app's selectors, compiled to SQL once per process
(:class:`shop.db.CompiledQuery`): a lookup is a few round trips whatever the customer's history, and the offers
come from the rulebook this process has parsed already. The console adds the history panels (phones, notes,
calls, campaigns); the API answer does without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.call.offers import Offer, operator_offers, recommended_action
from customers.calls import calls_for_customer
from customers.selectors import (
    customer_columns,
    customer_from_columns,
    customers_with_id,
    customers_with_number,
    notes_for_customer,
    survivor_of,
)
from feedback.selectors import OpenComplaint, complaints_from_column, open_complaints_column
from loyalty.campaigns.selectors import customer_campaigns
from loyalty.selectors import offer_columns, offers_from_columns
from orders import selectors as order_selectors
from scoring.selectors import score_columns, score_from_columns
from shop.db import CompiledQuery
from shop.models import ShopSettings
from shop.phones import format_phone, normalize_phone

if TYPE_CHECKING:
    from django.db.models import QuerySet

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
    currency: str = ""

    @property
    def last_order(self) -> Order | None:
        return self.recent_orders[0] if self.recent_orders else None


def lookup_number(raw: str, shop: ShopSettings | None = None) -> str:
    """The caller's number in E.164, or :class:`shop.phones.PhoneError` saying why it cannot be read. ``shop``: the
    settings the caller read already (the lookup API reads them once per request), else they are read here."""
    return normalize_phone(raw, (shop or ShopSettings.load()).phone_region)


def _card_read(customers: QuerySet[Customer], now: datetime, today: date) -> QuerySet[Customer, Any]:
    """The card's one query over ``customers`` (one row): every app's part as columns."""
    return customers.values(
        **customer_columns(),
        **score_columns(),
        **order_selectors.delivered_summary_columns(),
        recent_orders=order_selectors.recent_orders_column(RECENT_ORDERS),
        complaints=open_complaints_column(),
        **offer_columns(now, today),
    )


# Placeholders no real value equals: the SQL is compiled once per process with them, then run with the real ones.
_NOW, _TODAY = datetime(1, 1, 1, tzinfo=UTC), date(1, 1, 1)
_BY_NUMBER = CompiledQuery(
    "crm_caller_card_by_number",
    lambda number, now, today: _card_read(customers_with_number(number), now, today),
    number="\x00placeholder",
    now=_NOW,
    today=_TODAY,
)
_BY_ID = CompiledQuery(
    "crm_caller_card_by_id",
    lambda customer_id, now, today: _card_read(customers_with_id(customer_id), now, today),
    customer_id=-(2**62),
    now=_NOW,
    today=_TODAY,
)


def caller_card_for_number(
    number: str, *, with_history: bool = False, shop: ShopSettings | None = None
) -> CallerCard | None:
    """The card of whoever has ``number`` (E.164), ``None`` when nobody has: one query (two for a number left on a
    merged record, whose survivor's card is read). The lookup API asks without the history: a telephony
    integration needs the verdict, not the notes and past calls. ``shop`` as for :func:`lookup_number`."""
    now = timezone.now()
    rows = _BY_NUMBER.rows(number=number, now=now, today=timezone.localdate(now))
    if not rows:
        return None
    customer = customer_from_columns(rows[0])
    if customer.merged_into_id is not None:
        return caller_card(survivor_of(customer), with_history=with_history, shop=shop)
    return _card(rows[0], customer, now, with_history=with_history, shop=shop)


def caller_card(customer: Customer, *, with_history: bool = True, shop: ShopSettings | None = None) -> CallerCard:
    """Everything the operator sees about ``customer``: the card's one query, and with the history the phones,
    notes, past calls and campaigns (a query each, none per row)."""
    now = timezone.now()
    (row,) = _BY_ID.rows(customer_id=customer.pk, now=now, today=timezone.localdate(now))
    return _card(row, customer, now, with_history=with_history, shop=shop)


def _card(
    row: dict[str, Any], customer: Customer, now: datetime, *, with_history: bool, shop: ShopSettings | None
) -> CallerCard:
    score = score_from_columns(row)
    card = CallerCard(
        customer=customer,
        phones=[],
        recent_orders=order_selectors.orders_from_column(row["recent_orders"]),
        notes=[],
        calls=[],
        score=score,
        complaints=complaint_rows(complaints_from_column(row["complaints"])),
    )
    offers = offers_from_columns(
        row,
        customer=customer,
        score=score,
        delivered=order_selectors.delivered_summary_from_columns(row),
        now=now,
    )
    card.currency = (shop or ShopSettings.load()).currency
    card.offers = operator_offers(offers, card.currency)
    card.recommended_action = recommended_action(
        has_complaints=bool(card.complaints), offers=card.offers, orders_count=customer.orders_count
    )
    if with_history:
        card.phones = [format_phone(p) for p in customer.phones.values_list("number", flat=True)]
        card.notes = notes_for_customer(customer, limit=RECENT_NOTES)
        card.calls = calls_for_customer(customer.pk, limit=RECENT_CALLS)
        # Which campaigns reached the caller, with what offer and whether it was used: "you got our 15 % code".
        card.campaigns = customer_campaigns(customer.pk, limit=RECENT_CAMPAIGNS)
    return card


def complaint_rows(complaints: list[OpenComplaint]) -> list[dict[str, Any]]:
    """Open follow-ups from unhappy survey answers: the operator apologises before anything else."""
    return [
        {
            "id": complaint.id,
            "order": complaint.order,
            "state": complaint.state,
            "due_at": complaint.due_at.isoformat(),
            "recommend_score": complaint.recommend_score,
            "comment": complaint.comment,
            "summary": _("Order %(order)s: would recommend %(score)s/10. %(comment)s")
            % {"order": complaint.order, "score": complaint.recommend_score, "comment": complaint.comment},
        }
        for complaint in complaints
    ]
