"""One chunk of the demo shop at a time: draw customers and their orders, then write every table.

The customers' order summaries (``orders_count``, ``total_spent``, ``first_order_at``, ``last_order_at``) are
computed here from the very orders written, by the definition of ``orders.services.customer_summaries_refresh``:
every order but the cancelled ones is counted, and returned ones are not money spent.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import models
from numpy.typing import NDArray

from customers.models import ConsentChange, Customer, CustomerEmail, CustomerExternalId, CustomerPhone, Note
from demo.seed.people import Days, People, people_draw
from demo.seed.purchases import CATEGORIES, ITEM_NAMES, PRICES, SKUS, Items, Orders, StatusChanges, orders_draw
from demo.seed.vocabulary import NOTES, TAG_COMPLAINT, TAG_VIP, TAG_WHOLESALE, TAGS
from demo.seed.writers import Money, Nullable, Writer, taken
from orders.models import Order, OrderItem, OrderStatusChange

SOURCE = "demo"
# Phones are +79 and nine digits, a bijection of the customer id (the multiplier is prime to 10^9), so seeded
# numbers never repeat; one that a real customer already holds is redrawn.
PHONE_MULTIPLIER, PHONE_OFFSET, PHONE_SPACE = 123_456_791, 987_654, 1_000_000_000
REDRAWS = 20
NOTE_TEXTS = np.array([note.encode() for note in NOTES], dtype=np.bytes_)


@dataclass(frozen=True)
class Period:
    """The seeded stretch of time: ``days`` long, ending ``now`` (UTC, microseconds)."""

    start: np.datetime64
    days: float
    now: np.datetime64

    def moments(self, days: Days) -> NDArray[np.datetime64]:
        """Moments ``days`` after the start, to the second (every writer stores the same instant); NaN becomes NaT."""
        offset = (np.where(np.isnan(days), 0.0, days) * 86_400).astype("timedelta64[s]")
        moments = (self.start.astype("datetime64[s]") + offset).astype("datetime64[us]")
        return np.where(np.isnan(days), np.datetime64("NaT", "us"), moments)


@dataclass
class ChunkCounts:
    customers: int = 0
    orders: int = 0
    items: int = 0
    status_changes: int = 0

    def add(self, other: "ChunkCounts") -> None:
        for name in ("customers", "orders", "items", "status_changes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Summaries:
    """The order summary kept on each customer row, from the chunk's counted orders (cancellations aside)."""

    orders_count: NDArray[np.int64]
    total_spent: NDArray[np.int64]  # kopecks, summed as integers: money never passes through a float
    first_order: Days
    last_order: Days


def _summaries(orders: Orders, n: int) -> _Summaries:
    counted = orders.status != b"cancelled"
    spent = counted & (orders.status != b"returned")
    total_spent = np.zeros(n, dtype=np.int64)
    np.add.at(total_spent, orders.customer[spent], orders.total[spent])
    first_order, last_order = np.full(n, np.nan), np.full(n, np.nan)
    # Orders are sorted by customer then time: the first and last counted order of each customer.
    rows = np.flatnonzero(counted)
    owner = orders.customer[rows]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ends = np.r_[starts[1:], owner.size] - 1
    first_order[owner[starts]] = orders.placed_at[rows[starts]]
    last_order[owner[ends]] = orders.placed_at[rows[ends]]
    return _Summaries(np.bincount(orders.customer[counted], minlength=n), total_spent, first_order, last_order)


def _customers(
    writer: Writer, people: People, summary: _Summaries, created: NDArray[np.datetime64], period: Period
) -> NDArray[np.int64]:
    """The customer rows with their summaries; their new ids."""
    referrer = people.referrer
    return writer.write(
        Customer,
        {
            "name": people.name,
            "city": people.city,
            "address": people.address,
            "language": "ru",
            "channel": people.channel,
            "utm_source": people.utm_source,
            "utm_medium": people.utm_medium,
            "utm_campaign": people.utm_campaign,
            # A friend who brought someone is an earlier customer of this chunk, written in the same statement.
            "referred_by_id": lambda ids: Nullable(ids[np.maximum(referrer, 0)], referrer >= 0),
            "email_consent": people.email_consent,
            "email_consent_at": Nullable(period.moments(people.email_consent_at), people.email_consent),
            "email_consent_source": np.where(people.email_consent, people.email_consent_source, b""),
            "sms_consent": people.sms_consent,
            "sms_consent_at": Nullable(period.moments(people.sms_consent_at), people.sms_consent),
            "sms_consent_source": np.where(people.sms_consent, people.sms_consent_source, b""),
            "orders_count": summary.orders_count,
            "total_spent": Money(summary.total_spent),
            "first_order_at": period.moments(summary.first_order),
            "last_order_at": period.moments(summary.last_order),
            "created_at": created,
            "updated_at": np.full(len(people), period.now),
        },
        len(people),
        ids=True,
    )


def _lines_and_history(
    writer: Writer, items: Items, changes: StatusChanges, order_ids: NDArray[np.int64], period: Period
) -> None:
    writer.write(
        OrderItem,
        {
            "order_id": order_ids[items.order],
            "sku": SKUS[items.product],
            "name": ITEM_NAMES[items.product],
            "category": CATEGORIES[items.product],
            "quantity": np.strings.add(items.quantity.astype("S4"), b".000"),
            "price": Money(PRICES[items.product] * 100),
        },
        int(items.order.size),
    )
    writer.write(
        OrderStatusChange,
        {
            "order_id": order_ids[changes.order],
            "from_status": changes.from_status,
            "to_status": changes.to_status,
            "changed_at": period.moments(changes.changed_at),
            "origin": SOURCE,
            "changed_by_id": None,
        },
        int(changes.order.size),
    )


def seed_chunk(
    writer: Writer, rng: np.random.Generator, n: int, period: Period, currency: str, tag_ids: dict[str, int]
) -> ChunkCounts:
    """Write ``n`` customers with their contacts, consents, tags, notes, orders, lines and status history."""
    people = people_draw(rng, n, period.days, period.start)
    orders, items, changes = orders_draw(rng, people, period.days, period.start)
    created = period.moments(np.maximum(people.arrival - rng.uniform(0.0, 0.02, n), 0.0))
    summary = _summaries(orders, n)
    ids = _customers(writer, people, summary, created, period)
    _contacts(writer, rng, people, ids, created)
    _consent_trail(writer, people, ids, period)
    _marks(writer, rng, people, orders, ids, period, summary.total_spent, tag_ids)
    order_ids = _orders(writer, orders, ids, period, currency)
    _lines_and_history(writer, items, changes, order_ids, period)
    return ChunkCounts(n, len(orders), int(items.order.size), int(changes.order.size))


def _unique(
    model: type[models.Model], field: str, wanted: NDArray[np.bytes_], redraw: Callable[[int], NDArray[np.bytes_]]
) -> NDArray[np.bytes_]:
    """``wanted`` with every value that the table or the chunk already holds replaced by a fresh draw."""
    values = wanted.copy()
    check = np.arange(values.size)
    for _ in range(REDRAWS):
        held = taken(model, field, [v.decode() for v in values[check].tolist()])
        _, first = np.unique(values, return_index=True)
        repeated = np.ones(values.size, dtype=bool)
        repeated[first] = False
        clash = np.isin(values, np.array([h.encode() for h in held], dtype=np.bytes_)) | repeated
        check = np.flatnonzero(clash)
        if not check.size:
            return values
        values = values.astype(np.dtype(f"S{max(values.dtype.itemsize, 64)}"))
        values[check] = redraw(check.size)
    raise RuntimeError(f"could not find free values for {model.__name__}.{field}")


def _contacts(
    writer: Writer, rng: np.random.Generator, people: People, ids: NDArray[np.int64], created: NDArray[np.datetime64]
) -> None:
    """A mobile number each, an e-mail address for most, the demo's own customer id."""
    n = len(people)
    digits = ((ids * PHONE_MULTIPLIER + PHONE_OFFSET) % PHONE_SPACE).astype("S9")
    phones = _unique(
        CustomerPhone,
        "number",
        np.strings.add(b"+79", np.strings.zfill(digits, 9)),
        lambda k: np.strings.add(b"+79", np.strings.zfill(rng.integers(0, PHONE_SPACE, k).astype("S9"), 9)),
    )
    writer.write(
        CustomerPhone,
        {"customer_id": ids, "number": phones, "is_primary": True, "created_at": created},
        n,
    )
    mailed = np.flatnonzero(people.has_email)
    # The customer id after the name keeps addresses of namesakes apart; all lower case, as stored addresses are.
    addresses = _unique(
        CustomerEmail,
        "address",
        np.strings.add(
            np.strings.add(people.email_local[mailed], ids[mailed].astype("S20")),
            np.strings.add(b"@", people.email_domain[mailed]),
        ),
        lambda k: np.strings.add(np.strings.add(b"client", rng.integers(10**9, 10**10, k).astype("S10")), b"@mail.ru"),
    )
    writer.write(
        CustomerEmail,
        {"customer_id": ids[mailed], "address": addresses, "is_primary": True, "created_at": created[mailed]},
        int(mailed.size),
    )
    writer.write(
        CustomerExternalId,
        {
            "customer_id": ids,
            "source": SOURCE,
            "external_id": np.strings.add(b"c", ids.astype("S20")),
            "created_at": created,
        },
        n,
    )


def _consent_trail(writer: Writer, people: People, ids: NDArray[np.int64], period: Period) -> None:
    """The ConsentChange row behind each consent the customer row holds."""
    for channel, granted, at, source in (
        ("email", people.email_consent, people.email_consent_at, people.email_consent_source),
        ("sms", people.sms_consent, people.sms_consent_at, people.sms_consent_source),
    ):
        rows = np.flatnonzero(granted)
        writer.write(
            ConsentChange,
            {
                "customer_id": ids[rows],
                "channel": channel,
                "granted": True,
                "source": source[rows],
                "changed_at": period.moments(at[rows]),
            },
            int(rows.size),
        )


def _marks(
    writer: Writer,
    rng: np.random.Generator,
    people: People,
    orders: Orders,
    ids: NDArray[np.int64],
    period: Period,
    total_spent: NDArray[np.int64],
    tag_ids: dict[str, int],
) -> None:
    """Tags a manager would have set (VIP on the chunk's top spenders, a complaint after some returns, a few
    wholesale buyers) and a note on some cards."""
    n = len(people)
    returned = np.zeros(n, dtype=bool)
    returned[orders.customer[orders.status == b"returned"]] = True
    top = total_spent >= max(float(np.quantile(total_spent, 0.99)), 1.0) if n else np.zeros(0, dtype=bool)
    wanted = {
        TAG_VIP: top,
        TAG_COMPLAINT: (returned & (rng.random(n) < 0.25)) | (rng.random(n) < 0.003),
        TAG_WHOLESALE: rng.random(n) < 0.015,
    }
    for name in TAGS:
        wanted.setdefault(name, rng.random(n) < 0.004)
    tagged = [(np.flatnonzero(rows), tag_ids[name]) for name, rows in wanted.items()]
    writer.write(
        Customer.tags.through,
        {
            "customer_id": ids[np.concatenate([rows for rows, _ in tagged])],
            "tag_id": np.concatenate([np.full(rows.size, tag, dtype=np.int64) for rows, tag in tagged]),
        },
        sum(rows.size for rows, _ in tagged),
    )
    noted = np.flatnonzero(rng.random(n) < 0.03)
    at = period.moments(people.arrival[noted] + rng.random(noted.size) * (period.days - people.arrival[noted]))
    writer.write(
        Note,
        {
            "customer_id": ids[noted],
            "author_id": None,
            "text": NOTE_TEXTS[rng.integers(0, NOTE_TEXTS.size, noted.size)],
            "created_at": at,
            "updated_at": at,
        },
        int(noted.size),
    )


def _orders(writer: Writer, orders: Orders, ids: NDArray[np.int64], period: Period, currency: str) -> Any:
    placed = period.moments(orders.placed_at)
    status_at = period.moments(orders.status_at)
    return writer.write(
        Order,
        {
            "source": SOURCE,
            "external_id": lambda order_ids: np.strings.add(b"o", order_ids.astype("S20")),
            "customer_id": ids[orders.customer],
            "placed_at": placed,
            "status": orders.status,
            "status_changed_at": status_at,
            "delivered_at": period.moments(orders.delivered_at),
            "currency": currency,
            "subtotal": Money(orders.subtotal),
            "discount_total": Money(orders.discount),
            "delivery_cost": Money(orders.delivery),
            "total": Money(orders.total),
            "promo_code": orders.promo_code,
            "created_at": placed,
            "updated_at": status_at,
        },
        len(orders),
        ids=True,
    )
