"""A rule's preview before the owner switches it on: who qualifies now, by RF segment and tier, how many of them
the control group holds out, and the estimated cost over the next 30 days at each customer's predicted order rate
(expected orders × average order value from their score).

The score table is read once, as a stream of a few columns, and each customer is judged by the engine's own
functions (tiers, the win-back curve, the control-group hash) on the score's figures: purchase days stand for
delivered orders and realised value for spend, as of the last scoring run. Conditions that need the cart (first or
repeat order, minimum order) are reported as "decided at checkout" and not narrowed here.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.engine.evaluate import Facts, cumulative_percent, in_control_group, win_back_qualifies, win_back_value
from loyalty.engine.params import (
    HUNDRED,
    CouponParams,
    CumulativeParams,
    PromoParams,
    StoreCreditParams,
    VipPerkParams,
    WinBackParams,
)
from loyalty.models import LoyaltyRule
from loyalty.rulebook import engine_rule
from scoring.models import CustomerScore, Segment, Tier

CENT = Decimal("0.01")


@dataclass
class Preview:
    qualifying: int = 0
    control: int = 0
    by_segment: Counter[str] = field(default_factory=Counter)
    by_tier: Counter[str] = field(default_factory=Counter)
    estimated_cost: Decimal = Decimal("0.00")
    decided_at_checkout: list[str] = field(default_factory=list)

    @property
    def treated(self) -> int:
        return self.qualifying - self.control

    def segment_rows(self) -> list[tuple[str, int]]:
        """(label in the reader's language, customers), largest first."""
        return [(str(Segment(key).label), n) for key, n in self.by_segment.most_common() if key in Segment.values]

    def tier_rows(self) -> list[tuple[str, int]]:
        """Every tier, VIP first, with its count (zero included)."""
        return [(str(Tier(key).label), self.by_tier.get(key, 0)) for key in Tier.values]


def _per_order_value(params: Any, facts: Facts, average: Decimal) -> Decimal | None:
    """What one order of this customer would cost the rule, or ``None`` when the customer does not qualify."""
    if isinstance(params, CumulativeParams):
        reached = cumulative_percent(params, facts)
        return None if reached is None else average * reached[1] / HUNDRED
    if isinstance(params, WinBackParams):
        if not win_back_qualifies(params, facts):
            return None
        value = win_back_value(params, facts.churn_risk, facts.predicted_clv)
        return value if params.value_kind == "fixed" else average * value / HUNDRED
    if isinstance(params, VipPerkParams):
        return average * params.percent / HUNDRED
    if isinstance(params, StoreCreditParams):
        return params.value if params.accrual_kind == "fixed" else average * params.value / HUNDRED
    if isinstance(params, CouponParams | PromoParams):
        return params.value if params.value_kind == "fixed" else average * params.value / HUNDRED
    return Decimal("0")


def rule_preview(rule: LoyaltyRule) -> Preview:
    spec = engine_rule(rule)
    c = spec.conditions
    scores = CustomerScore.objects.filter(customer__merged_into__isnull=True)
    if c.segments:
        scores = scores.filter(segment__in=c.segments)
    if c.tiers:
        scores = scores.filter(tier__in=c.tiers)
    if c.channels:
        scores = scores.filter(customer__channel__in=c.channels)
    if c.churn_min is not None:
        scores = scores.filter(churn_risk__gte=c.churn_min)
    if c.churn_max is not None:
        scores = scores.filter(churn_risk__lte=c.churn_max)
    preview = Preview()
    if c.order_kind != "any":
        preview.decided_at_checkout.append("order_kind")
    if c.min_order is not None:
        preview.decided_at_checkout.append("min_order")
    columns = ("customer_id", "segment", "tier", "churn_risk", "recency_days", "transactions", "total_value",
               "predicted_clv", "expected_30", "average_value")  # fmt: skip
    cost = Decimal("0")
    for row in scores.values_list(*columns).iterator(chunk_size=20000):
        customer_id, segment, tier, risk, recency, transactions, total, clv, expected, average = row
        facts = Facts(
            customer_id=customer_id, delivered_orders=transactions, lifetime_spend=total, churn_risk=risk,
            days_since_last_order=recency, segment=segment, tier=tier, predicted_clv=clv,
        )  # fmt: skip
        per_order = _per_order_value(spec.params, facts, average or Decimal("0"))
        if per_order is None:
            continue
        preview.qualifying += 1
        preview.by_segment[segment] += 1
        preview.by_tier[tier] += 1
        if in_control_group(rule.pk, customer_id, spec.control_share):
            preview.control += 1
            continue
        cost += per_order * Decimal(str(expected or 0))
    preview.estimated_cost = cost.quantize(CENT)
    return preview
