"""What a customer is offered right now, before there is a cart: the rules' standing offers the operator may name
on the phone ("you have 10 % off your next order", "your deliveries are free"). Pure Python, no Django.

The same rules and the same checks as :func:`loyalty.engine.evaluate.evaluate` — conditions, the control group,
a used-up budget — so what the operator promises is what the checkout gives. Only the minimum order is left out:
it depends on a cart nobody has filled yet, and the quote decides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from loyalty.engine.evaluate import (
    CENT,
    Facts,
    Reason,
    Rule,
    cumulative_percent,
    failed_customer_condition,
    in_control_group,
    money,
    win_back_qualifies,
    win_back_value,
)
from loyalty.engine.params import FIXED, PERCENT, CumulativeParams, Kind, VipPerkParams, WinBackParams


@dataclass(frozen=True)
class Standing:
    """One rule's offer to this customer now. ``value_kind`` is ``percent`` (``value`` in %), ``fixed`` (``value``
    a sum of money) or empty for a perk with no money value; ``perk`` names a VIP perk."""

    rule_id: int
    kind: str
    value_kind: str
    value: Decimal
    reason: Reason
    perk: str = ""


def _offer(rule: Rule, facts: Facts) -> Standing | None:
    p = rule.params
    if isinstance(p, CumulativeParams):
        reached = cumulative_percent(p, facts)
        if reached is None:
            return None
        threshold, percent = reached
        reason = Reason("tier_reached", {"basis": p.basis, "from": threshold, "percent": percent})
        return Standing(rule.id, rule.kind, PERCENT, percent.quantize(CENT), reason)
    if isinstance(p, WinBackParams):
        if not win_back_qualifies(p, facts):
            return None
        value = win_back_value(p, facts.churn_risk, facts.predicted_clv)
        shown = money(value) if p.value_kind == FIXED else value.quantize(CENT)
        reason = Reason(
            "win_back",
            {"risk": facts.churn_risk, "days": facts.days_since_last_order, "value": shown, "kind": p.value_kind},
        )
        return Standing(rule.id, rule.kind, p.value_kind, shown, reason)
    if isinstance(p, VipPerkParams):
        reason = Reason("vip_perk", {"tier": facts.tier, "perk": p.perk})
        value_kind = PERCENT if p.percent > 0 else ""
        return Standing(rule.id, rule.kind, value_kind, p.percent.quantize(CENT), reason, perk=p.perk)
    return None


def standing_offers(facts: Facts, rules: list[Rule], today: date) -> list[Standing]:
    """Each automatic rule (tiers, win-back, VIP perks) this customer gets now, in rule id order. A customer in a
    rule's control group, outside its conditions, or under a rule whose budget is spent gets nothing from it."""
    offers: list[Standing] = []
    for rule in sorted(rules, key=lambda r: r.id):
        if rule.kind not in (Kind.CUMULATIVE, Kind.WIN_BACK, Kind.VIP_PERK):
            continue
        if failed_customer_condition(rule.conditions, facts, today) is not None:
            continue
        if in_control_group(rule.id, facts.customer_id, rule.control_share):
            continue
        if rule.budget_left is not None and rule.budget_left <= 0:
            continue
        offer = _offer(rule, facts)
        if offer is not None:
            offers.append(offer)
    return offers
