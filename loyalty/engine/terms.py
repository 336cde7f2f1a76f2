"""The terms of a quote: the customer's facts, the cart, the rules and codes going in, and the offers, refusals and
the quote coming out (see :mod:`loyalty.engine.evaluate`). Plain frozen dataclasses, no Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from loyalty.engine.params import Params

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
BEST, STACK = "best", "stack"
FIRST, REPEAT, ANY = "first", "repeat", "any"


def money(value: Decimal) -> Decimal:
    """The one rounding of an amount: to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Facts:
    customer_id: int
    delivered_orders: int = 0
    lifetime_spend: Decimal = ZERO
    churn_risk: float | None = None
    days_since_last_order: int | None = None
    segment: str = ""
    tier: str = ""
    predicted_clv: Decimal | None = None
    channel: str = ""

    @property
    def is_first_order(self) -> bool:
        return self.delivered_orders == 0


@dataclass(frozen=True)
class CartLine:
    key: str
    amount: Decimal  # the line's total (price × quantity), in money


@dataclass(frozen=True)
class Cart:
    """The subtotal is the sum of the lines when the cart has them, else ``total``."""

    total: Decimal
    lines: tuple[CartLine, ...] = ()

    @property
    def subtotal(self) -> Decimal:
        return money(sum((line.amount for line in self.lines), ZERO)) if self.lines else money(self.total)


@dataclass(frozen=True)
class Conditions:
    segments: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    churn_min: float | None = None
    churn_max: float | None = None
    order_kind: str = ANY
    min_order: Decimal | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class Rule:
    id: int
    kind: str
    params: Params
    conditions: Conditions = Conditions()
    stacking: str = BEST
    max_total_percent: Decimal | None = None
    control_share: Decimal = Decimal("0")
    budget_left: Decimal | None = None  # None: no budget cap


@dataclass(frozen=True)
class CodeOffer:
    """A code presented at checkout, already found valid for this customer by the caller."""

    code: str
    source: str  # coupon, promo, referral
    value_kind: str
    value: Decimal
    rule: Rule | None = None
    min_order: Decimal | None = None


@dataclass(frozen=True)
class Reason:
    """Why an offer applies or not: a key the Django layer turns into a sentence, and its figures."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Offer:
    rule_id: int | None
    kind: str
    amount: Decimal
    reason: Reason
    percent: Decimal | None = None
    code: str = ""
    perk: str = ""
    stacking: str = BEST
    max_total_percent: Decimal | None = None


@dataclass(frozen=True)
class Declined:
    rule_id: int | None
    kind: str
    reason: Reason
    code: str = ""


@dataclass(frozen=True)
class Quote:
    subtotal: Decimal
    offers: tuple[Offer, ...]
    declined: tuple[Declined, ...]
    discount: Decimal
    line_discounts: tuple[tuple[str, Decimal], ...]
    credit_available: Decimal
    credit_applied: Decimal
    total: Decimal
