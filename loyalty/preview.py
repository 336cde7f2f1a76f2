"""A rule's preview before the owner switches it on: who qualifies now, by RF segment and tier, how many of them
the control group holds out, and the estimated cost over the next 30 and 90 days at each customer's predicted
order rate (expected orders × the offer's value on an order of the customer's average size).

Set-based, so a million customers take one aggregate query, not a million Python evaluations: the rule's
conditions, its qualification (a cumulative tier reached, the win-back threshold passed) and its value (the tiers,
the owner's win-back curve, scaled and capped) are written as SQL over the score table, grouped by segment and
tier. The control group is the engine's own stable hash computed in SQL (:func:`control_group_sql`), so the
preview leaves out exactly the customers the quote will. Purchase days stand for delivered orders and realised
value for spend, as of the last scoring run. Conditions that need the cart (first or repeat order, minimum order)
are reported as "decided at checkout" and not narrowed here.

The cost is a forecast from the model's expected orders (floats): it is summed in double precision and rounded
once to the cent. Who qualifies and who is held out are exact: churn risk is compared as the stored double with
the rule's decimal threshold read as a double, which orders them as the engine's ``Decimal(str(risk))`` does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection

from customers.models import Customer
from loyalty.engine.evaluate import Rule
from loyalty.engine.params import (
    FIXED,
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
TWO_TO_64 = 2**64


@dataclass
class Preview:
    qualifying: int = 0
    control: int = 0
    by_segment: Counter[str] = field(default_factory=Counter)
    by_tier: Counter[str] = field(default_factory=Counter)
    estimated_cost: Decimal = Decimal("0.00")
    estimated_cost_90: Decimal = Decimal("0.00")
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


def control_group_sql(rule_id: int | str, share: Decimal, customer_column: str) -> tuple[str, list[Any]]:
    """``in_control_group(rule_id, customer, share)`` as a SQL predicate: the first 8 bytes of
    SHA-256(``"rule:customer"``), big-endian, below ``share`` × 2⁶⁴. An integer is below a number exactly when it
    is below that number's ceiling, so the bound is a whole number written as 8 bytes and the comparison is a
    byte-wise one (``bytea`` compares as unsigned big-endian), with no arithmetic per row."""
    if share <= 0:
        return "FALSE", []
    bound = -((-share * TWO_TO_64) // 1)  # the ceiling, exact in Decimal
    sql = f"substr(sha256((%s || ':' || {customer_column})::bytea), 1, 8) < %s"
    return sql, [str(rule_id), int(bound).to_bytes(8, "big")]


def _steps_sql(risk: str, steps: tuple[tuple[Decimal, Decimal], ...]) -> tuple[str, list[Any]]:
    """The last step whose start ≤ risk, else the first step's value (also for an unknown risk)."""
    whens = " ".join(f"WHEN {risk} >= %s THEN %s" for _ in steps)
    params: list[Any] = []
    for start, value in reversed(steps):
        params += [float(start), float(value)]
    return f"(CASE {whens} ELSE %s END)", [*params, float(steps[0][1])]


def _win_back_sql(p: WinBackParams) -> tuple[str, str, list[Any], list[Any]]:
    """(qualifies, value per order, their parameters) for a win-back rule, as the engine's
    ``win_back_qualifies`` and ``win_back_value``."""
    risk = "s.churn_risk"
    tests, test_params = [], []
    if p.risk_threshold is not None:
        tests.append(f"({risk} IS NOT NULL AND {risk} >= %s)")
        test_params.append(float(p.risk_threshold))
    if p.days_threshold is not None:
        tests.append("s.recency_days >= %s")
        test_params.append(p.days_threshold)
    if p.curve == "steps":
        value, params = _steps_sql(risk, p.steps)
    else:
        span = float(p.value_to - p.value_from) / float(p.risk_to - p.risk_from)
        value = f"(CASE WHEN {risk} IS NULL THEN %s ELSE %s + %s * (LEAST(GREATEST({risk}, %s), %s) - %s) END)"
        params = [float(min(p.value_from, p.value_to)), float(p.value_from), span]
        params += [float(p.risk_from), float(p.risk_to), float(p.risk_from)]
    if p.clv_reference is not None:
        value = f"{value} * LEAST(GREATEST(COALESCE(s.predicted_clv, 0)::float8 / %s, %s), %s)"
        params += [float(p.clv_reference), float(p.scale_min), float(p.scale_max)]
    if p.cap is not None:
        value = f"LEAST({value}, %s)"
        params.append(float(p.cap))
    if p.value_kind != FIXED:
        value = f"s.average_value::float8 * {value} / 100"
    return " OR ".join(tests), value, test_params, params


def _cumulative_sql(p: CumulativeParams) -> tuple[str, str, list[Any], list[Any]]:
    measure = "s.transactions" if p.basis == "orders" else "s.total_value"
    whens = " ".join(f"WHEN {measure} >= %s THEN %s" for _ in p.tiers)
    params: list[Any] = []
    for start, percent in reversed(p.tiers):
        params += [start, float(percent)]
    return f"{measure} >= %s", f"s.average_value::float8 * (CASE {whens} END) / 100", [p.tiers[0][0]], params


def _offer_sql(spec: Rule) -> tuple[str, str, list[Any], list[Any]]:
    """(who qualifies, what one of their orders costs the rule, parameters of each) for the rule's kind."""
    p = spec.params
    if isinstance(p, CumulativeParams):
        return _cumulative_sql(p)
    if isinstance(p, WinBackParams):
        return _win_back_sql(p)
    per_order, value = "0", Decimal("0")
    if isinstance(p, VipPerkParams):
        per_order, value = "s.average_value::float8 * %s / 100", p.percent
    elif isinstance(p, StoreCreditParams):
        per_order = "%s" if p.accrual_kind == FIXED else "s.average_value::float8 * %s / 100"
        value = p.value
    elif isinstance(p, CouponParams | PromoParams):
        per_order = "%s" if p.value_kind == FIXED else "s.average_value::float8 * %s / 100"
        value = p.value
    return "TRUE", per_order, [], [float(value)] if "%s" in per_order else []


def _conditions_sql(spec: Rule) -> tuple[str, list[Any]]:
    c = spec.conditions
    customers = Customer._meta.db_table
    merged_column = Customer._meta.get_field("merged_into").column
    channel_column = Customer._meta.get_field("channel").column
    # Table and column names come from the models; every value below is a parameter.
    merged = f"SELECT 1 FROM {customers} m WHERE m.id = s.customer_id AND m.{merged_column} IS NOT NULL"  # noqa: S608
    where = [f"NOT EXISTS ({merged})"]
    params: list[Any] = []
    if c.segments:
        where.append("s.segment = ANY(%s)")
        params.append(sorted(c.segments))
    if c.tiers:
        where.append("s.tier = ANY(%s)")
        params.append(sorted(c.tiers))
    if c.channels:
        channel = f"SELECT 1 FROM {customers} h WHERE h.id = s.customer_id AND h.{channel_column} = ANY(%s)"  # noqa: S608
        where.append(f"EXISTS ({channel})")
        params.append(sorted(c.channels))
    if c.churn_min is not None:
        where.append("s.churn_risk >= %s")
        params.append(c.churn_min)
    if c.churn_max is not None:
        where.append("s.churn_risk <= %s")
        params.append(c.churn_max)
    return " AND ".join(where), params


def offer_value_sql(rule: LoyaltyRule) -> tuple[str, list[Any]]:
    """What one of a customer's orders costs ``rule`` (a percent at the customer's average order, or a fixed sum),
    as SQL over a score row aliased ``s``: the campaigns' cost estimate uses the rule preview's own formula."""
    _qualifies, per_order, _qualifies_params, per_order_params = _offer_sql(engine_rule(rule))
    return per_order, per_order_params


def _money(value: float | None) -> Decimal:
    return Decimal(repr(value or 0.0)).quantize(CENT, rounding=ROUND_HALF_UP)


def rule_preview(rule: LoyaltyRule) -> Preview:
    """One query over the score table, whatever its size."""
    spec = engine_rule(rule)
    where, where_params = _conditions_sql(spec)
    qualifies, per_order, qualifies_params, per_order_params = _offer_sql(spec)
    control, control_params = control_group_sql(rule.pk, spec.control_share, "s.customer_id")
    # Grouped by whether the control group holds the customer out, so the hash is computed once a row (as a
    # grouping key), not once for every aggregate that would filter on it.
    sql = f"""
        SELECT s.segment, s.tier, {control} AS held_out, count(*),
               sum(COALESCE(({per_order})::float8, 0) * COALESCE(s.expected_30, 0)),
               sum(COALESCE(({per_order})::float8, 0) * COALESCE(s.expected_90, 0))
        FROM {CustomerScore._meta.db_table} s
        WHERE {where} AND ({qualifies})
        GROUP BY 1, 2, 3
    """  # noqa: S608 -- table and column names come from the models, every value is a parameter
    preview = Preview()
    cost_30 = cost_90 = 0.0
    with connection.cursor() as cursor:
        cursor.execute(sql, [*control_params, *per_order_params, *per_order_params, *where_params, *qualifies_params])
        for segment, tier, held_out, count, cost30, cost90 in cursor.fetchall():
            preview.qualifying += count
            preview.by_segment[segment] += count
            preview.by_tier[tier] += count
            if held_out:
                preview.control += count
            else:
                cost_30 += cost30 or 0.0
                cost_90 += cost90 or 0.0
    preview.estimated_cost, preview.estimated_cost_90 = _money(cost_30), _money(cost_90)
    if spec.conditions.order_kind != "any":
        preview.decided_at_checkout.append("order_kind")
    if spec.conditions.min_order is not None:
        preview.decided_at_checkout.append("min_order")
    return preview
