"""What the demo customers bought: a buy-till-you-die process, Gamma-Gamma baskets, a believable status history.

Purchases follow the BG/NBD story (Fader, Hardie & Lee 2005): while alive, a customer buys as a Poisson process at
a personal rate drawn from Gamma(r, alpha); after each repeat purchase they leave for good with a personal
probability drawn from Beta(a, b). Both differ by acquisition channel. A purchase that falls in a slow month is
dropped with the season's odds, so November–December peak and summer dips. Each customer's typical basket is drawn
once (Gamma-Gamma) and each order's value around it; the basket is then filled from the catalogue.

Statuses come from a planned timeline per order (placed, paid, shipped, delivered, then perhaps returned, or
cancelled on the way); the status today is the last step whose moment has passed, so old orders are settled and
the last days' orders are still new, paid or shipped. Every step that happened becomes a status-change row.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from demo.seed.people import Days, People, season_weight
from demo.seed.vocabulary import (
    CATALOGUE,
    CHANNELS,
    DELIVERY_PRICES,
    FREE_DELIVERY_FROM,
    PROMO_CODES,
    SPEND_GAMMA,
    SPEND_P,
    SPEND_Q,
)

Ints = NDArray[np.int64]
# A customer buying every few days for two years stops somewhere; the cap bounds the loop, not the data.
MAX_ORDERS = 150
# Timeline columns in the order they can happen; the status names of orders.models.OrderStatus.
STAGES = np.array([b"new", b"paid", b"shipped", b"delivered", b"returned", b"cancelled"], dtype=np.bytes_)
NEW, PAID, SHIPPED, DELIVERED, RETURNED, CANCELLED = range(6)
CANCELLED_SHARE, RETURNED_SHARE, PREPAID_SHARE = 0.05, 0.03, 0.8

_BY_PRICE = np.argsort([item[3] for item in CATALOGUE])
PRICES = np.array([CATALOGUE[i][3] for i in _BY_PRICE], dtype=np.int64)  # roubles, ascending
SKUS = np.array([CATALOGUE[i][0].encode() for i in _BY_PRICE], dtype=np.bytes_)
ITEM_NAMES = np.array([CATALOGUE[i][1].encode() for i in _BY_PRICE], dtype=np.bytes_)
CATEGORIES = np.array([CATALOGUE[i][2].encode() for i in _BY_PRICE], dtype=np.bytes_)
PROMO_NAMES = np.array([b""] + [code.encode() for code, _ in PROMO_CODES], dtype=np.bytes_)
PROMO_PERCENT = np.array([0] + [percent for _, percent in PROMO_CODES], dtype=np.int64)


@dataclass
class Orders:
    """The orders of one chunk of customers, sorted by customer then time; money in kopecks."""

    customer: Ints  # row in the People chunk
    placed_at: Days
    status: NDArray[np.bytes_]
    status_at: Days
    delivered_at: Days  # NaN unless delivered or returned
    subtotal: Ints
    discount: Ints
    delivery: Ints
    total: Ints
    promo_code: NDArray[np.bytes_]

    def __len__(self) -> int:
        return int(self.customer.size)


@dataclass
class Items:
    order: Ints  # row in Orders
    product: Ints  # index into SKUS / ITEM_NAMES / CATEGORIES / PRICES
    quantity: Ints


@dataclass
class StatusChanges:
    order: Ints
    from_status: NDArray[np.bytes_]
    to_status: NDArray[np.bytes_]
    changed_at: Days


def purchase_moments(
    rng: np.random.Generator, people: People, horizon: float, start: np.datetime64
) -> tuple[Ints, Days]:
    """(customer row, moment) of every purchase, the first at arrival; sorted by customer then moment."""
    n = len(people)
    channel = people.profile
    r, alpha, a, b = (np.array([getattr(c, key) for c in CHANNELS])[channel] for key in ("r", "alpha", "a", "b"))
    rate = np.maximum(rng.gamma(r, 1.0 / alpha), 1e-6)  # purchases per day while alive
    dropout = rng.beta(a, b)
    owners, moments = [np.arange(n)], [people.arrival]
    clock = people.arrival.copy()
    active = np.ones(n, dtype=bool)
    for _ in range(MAX_ORDERS - 1):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        clock[rows] += rng.exponential(1.0 / rate[rows])
        inside = clock[rows] < horizon
        active[rows[~inside]] = False
        rows = rows[inside]
        bought = rows[rng.random(rows.size) < season_weight(start, clock[rows])]
        owners.append(bought)
        moments.append(clock[bought])
        # BG/NBD: the chance to leave comes after each repeat purchase, never after the first.
        active[bought[rng.random(bought.size) < dropout[bought]]] = False
    customer, placed = np.concatenate(owners), np.concatenate(moments)
    order = np.lexsort((placed, customer))
    return customer[order], placed[order]


def orders_draw(
    rng: np.random.Generator, people: People, horizon: float, start: np.datetime64
) -> tuple[Orders, Items, StatusChanges]:
    """Every order of the chunk with its lines, its status today (``horizon`` days after ``start``) and the
    status changes that led there."""
    customer, placed = purchase_moments(rng, people, horizon, start)
    items = _baskets(rng, customer)
    line_value = PRICES[items.product] * items.quantity * 100
    subtotal = np.zeros(customer.size, dtype=np.int64)  # kopecks, summed as integers
    np.add.at(subtotal, items.order, line_value)
    promo = np.where(rng.random(customer.size) < 0.12, rng.integers(1, PROMO_NAMES.size, customer.size), 0)
    # Whole kopecks, rounded down: the shop never gives away a fraction of a kopeck.
    discount = subtotal * PROMO_PERCENT[promo] // 100
    delivery_price = np.array(DELIVERY_PRICES, dtype=np.int64)[rng.integers(0, len(DELIVERY_PRICES), customer.size)]
    delivery = np.where(subtotal >= FREE_DELIVERY_FROM * 100, 0, delivery_price * 100)
    timeline = _timeline(rng, placed)
    happened = timeline <= horizon  # NaN (a step this order never takes) compares false
    last = timeline.shape[1] - 1 - np.argmax(happened[:, ::-1], axis=1)
    status_at = timeline[np.arange(customer.size), last]
    delivered = np.isin(last, [DELIVERED, RETURNED])
    orders = Orders(
        customer=customer,
        placed_at=placed,
        status=STAGES[last],
        status_at=status_at,
        delivered_at=np.where(delivered, timeline[:, DELIVERED], np.nan),
        subtotal=subtotal,
        discount=discount,
        delivery=delivery,
        total=subtotal - discount + delivery,
        promo_code=PROMO_NAMES[promo],
    )
    return orders, items, status_changes(timeline, horizon)


def _baskets(rng: np.random.Generator, customer: Ints) -> Items:
    """Order lines: a target value per order around the customer's typical basket, spread over one to four lines,
    each a catalogue product near its share of the target, in the quantity that comes closest to it."""
    n_customers = int(customer.max()) + 1 if customer.size else 0
    nu = rng.gamma(SPEND_Q, 1.0 / SPEND_GAMMA, n_customers)  # the customer's basket scale
    target = rng.gamma(SPEND_P, 1.0 / nu[customer])  # roubles
    lines = rng.choice([1, 2, 3, 4], size=customer.size, p=[0.55, 0.28, 0.12, 0.05])
    order = np.repeat(np.arange(customer.size), lines)
    share = target[order] / lines[order] * rng.lognormal(0.0, 0.4, order.size)
    product = np.clip(np.searchsorted(PRICES, share) - 1 + rng.integers(-1, 2, order.size), 0, PRICES.size - 1)
    quantity = np.clip(np.round(share / PRICES[product]), 1, 6).astype(np.int64)
    return Items(order=order, product=product, quantity=quantity)


def _timeline(rng: np.random.Generator, placed: Days) -> NDArray[np.float64]:
    """Each order's planned moment of every step (columns as STAGES), NaN for a step it never takes."""
    n = placed.size
    t = np.full((n, len(STAGES)), np.nan)
    t[:, NEW] = placed
    prepaid = rng.random(n) < PREPAID_SHARE  # the rest pay the courier: no "paid" step
    t[prepaid, PAID] = placed[prepaid] + rng.uniform(0.002, 0.08, int(prepaid.sum()))
    ready = np.where(prepaid, t[:, PAID], placed)
    t[:, SHIPPED] = ready + rng.uniform(0.3, 2.0, n)
    t[:, DELIVERED] = t[:, SHIPPED] + rng.uniform(1.0, 6.0, n)
    fate = rng.random(n)
    cancelled = fate < CANCELLED_SHARE
    returned = (fate >= CANCELLED_SHARE) & (fate < CANCELLED_SHARE + RETURNED_SHARE)
    t[returned, RETURNED] = t[returned, DELIVERED] + rng.uniform(2.0, 14.0, int(returned.sum()))
    # Most cancellations come before shipping (a changed mind); the rest are parcels refused at delivery.
    refused = cancelled & (rng.random(n) < 0.3)
    early = cancelled & ~refused
    t[early, CANCELLED] = ready[early] + rng.uniform(0.01, 0.25, int(early.sum())) * (t[early, SHIPPED] - ready[early])
    t[early, SHIPPED] = np.nan
    t[refused, CANCELLED] = t[refused, DELIVERED]
    t[cancelled, DELIVERED] = np.nan
    return t


def status_changes(timeline: NDArray[np.float64], horizon: float) -> StatusChanges:
    """One row per step that has happened, in order, the first from no status."""
    happened = timeline <= horizon
    order, stage = np.nonzero(happened)  # row-major: by order, then by step, which is chronological
    first = np.ones(order.size, dtype=bool)
    first[1:] = order[1:] != order[:-1]
    previous = np.empty(order.size, dtype=np.int64)
    previous[1:] = stage[:-1]
    from_status = np.where(first, b"", STAGES[np.where(first, 0, previous)])
    return StatusChanges(
        order=order, from_status=from_status, to_status=STAGES[stage], changed_at=timeline[order, stage]
    )
