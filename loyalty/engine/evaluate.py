"""Which offers a customer gets on a cart, and the final total: pure Python, no Django, no database.

Input: the customer's facts, the cart, the active rules (already filtered to this shop and moment by the caller),
the codes presented at checkout (resolved by the caller into :class:`CodeOffer`), the credit balance.
Output: a :class:`Quote` with the applied offers (each with its rule and a reason), the offers declined and why,
the discount spread over the cart's lines, the credit that may pay the rest, and the final total.

**Money and rounding.** Every amount is a ``Decimal``; nothing passes through a float except churn risk, which
is a probability, not money. Each offer's value is computed exactly and quantised once, when it becomes a sum
of money, to 0.01 with ``ROUND_HALF_UP`` (half a kopeck or cent goes up, as a cashier rounds); the order's
discount is the sum of those cent amounts, never rounded again. A cap (a stacking limit, the subtotal, a budget)
cuts the last offer so the applied amounts still add up to the discount exactly. The discount is spread over the
lines in proportion to their totals by the largest-remainder method, so the lines add up to it to the cent.

**Stacking.** Each rule is either *best single offer* or *stackable up to N %*. The quote takes the better of
(1) the single most valuable offer of any rule and (2) all stackable offers together, capped at the smallest
``max_total_percent`` among them. Perks with no money value (priority delivery) are always kept.

**Control group.** A rule with a control share leaves out a stable slice of its eligible customers: a SHA-256 of
``"rule id:customer id"`` read as a number in [0, 1) against the share, so the same customer is in or out on
every evaluation and a new rule draws a fresh, independent slice. It applies to the offers the shop makes on its
own (tiers, win-back, VIP perks, and at delivery the credit and coupons it issues); a code the customer holds in
hand (coupon, promo, referral) is honoured.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_DOWN, Decimal

from loyalty.engine.params import (
    FIXED,
    HUNDRED,
    CumulativeParams,
    Kind,
    VipPerkParams,
    WinBackParams,
)
from loyalty.engine.terms import (
    ANY,
    BEST,
    CENT,
    FIRST,
    REPEAT,
    STACK,
    ZERO,
    Cart,
    CartLine,
    CodeOffer,
    Conditions,
    Declined,
    Facts,
    Offer,
    Quote,
    Reason,
    Rule,
    money,
)

# The terms live in loyalty.engine.terms; callers import them from here, with the functions that use them.
__all__ = [
    "ANY",
    "BEST",
    "CENT",
    "FIRST",
    "REPEAT",
    "STACK",
    "ZERO",
    "Cart",
    "CartLine",
    "CodeOffer",
    "Conditions",
    "Declined",
    "Facts",
    "Offer",
    "Quote",
    "Reason",
    "Rule",
    "candidate_offers",
    "combine",
    "cumulative_percent",
    "evaluate",
    "failed_condition",
    "failed_customer_condition",
    "in_control_group",
    "money",
    "spread",
    "win_back_qualifies",
    "win_back_value",
]


def in_control_group(rule_id: int, customer_id: int, share: Decimal) -> bool:
    """Stable per (rule, customer): the first 8 bytes of SHA-256 as a fraction of 2⁶⁴ against the share, compared
    exactly (the share times 2⁶⁴ needs 23 digits, within Decimal's 28), so the rule preview's SQL twin
    (``loyalty.preview.control_group_sql``) picks the very same customers."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{rule_id}:{customer_id}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) < share * Decimal(2**64)


def _failed_dates(c: Conditions, today: date) -> Reason | None:
    if c.starts_on is not None and today < c.starts_on:
        return Reason("not_started", {"date": c.starts_on})
    if c.ends_on is not None and today > c.ends_on:
        return Reason("ended", {"date": c.ends_on})
    return None


def _failed_membership(c: Conditions, facts: Facts) -> Reason | None:
    """The segment, tier and channel lists: an empty list admits everyone."""
    for key, allowed, value in (
        ("segment", c.segments, facts.segment),
        ("tier", c.tiers, facts.tier),
        ("channel", c.channels, facts.channel),
    ):
        if allowed and value not in allowed:
            return Reason(key, {key: value})
    return None


def _failed_churn(c: Conditions, facts: Facts) -> Reason | None:
    """A churn-risk range; a customer with no score yet is outside any range."""
    if c.churn_min is None and c.churn_max is None:
        return None
    risk = facts.churn_risk
    below = risk is None or (c.churn_min is not None and risk < c.churn_min)
    above = risk is not None and c.churn_max is not None and risk > c.churn_max
    return Reason("churn_range", {"risk": risk}) if below or above else None


def _failed_order_kind(c: Conditions, facts: Facts) -> Reason | None:
    if c.order_kind == FIRST and not facts.is_first_order:
        return Reason("not_first_order")
    if c.order_kind == REPEAT and facts.is_first_order:
        return Reason("not_repeat_order")
    return None


def failed_customer_condition(conditions: Conditions, facts: Facts, today: date) -> Reason | None:
    """The first condition the customer does not meet, the cart left aside (its minimum): dates, then who the
    customer is, then churn risk, then the kind of order (first or repeat)."""
    return (
        _failed_dates(conditions, today)
        or _failed_membership(conditions, facts)
        or _failed_churn(conditions, facts)
        or _failed_order_kind(conditions, facts)
    )


def failed_condition(conditions: Conditions, facts: Facts, subtotal: Decimal, today: date) -> Reason | None:
    """The first condition the customer or cart does not meet, or ``None``: dates, then who the customer is, then
    churn risk, then the order."""
    failed = failed_customer_condition(conditions, facts, today)
    if failed is None and conditions.min_order is not None and subtotal < conditions.min_order:
        return Reason("min_order", {"min_order": conditions.min_order})
    return failed


def cumulative_percent(params: CumulativeParams, facts: Facts) -> tuple[Decimal, Decimal] | None:
    """(threshold reached, percent) of the highest tier the customer reached, or ``None`` below the first."""
    measure = Decimal(facts.delivered_orders) if params.basis == "orders" else facts.lifetime_spend
    reached = [tier for tier in params.tiers if measure >= tier[0]]
    return reached[-1] if reached else None


def win_back_qualifies(params: WinBackParams, facts: Facts) -> bool:
    by_risk = (
        params.risk_threshold is not None
        and facts.churn_risk is not None
        and Decimal(str(facts.churn_risk)) >= params.risk_threshold
    )
    by_days = (
        params.days_threshold is not None
        and facts.days_since_last_order is not None
        and facts.days_since_last_order >= params.days_threshold
    )
    return by_risk or by_days


def win_back_value(params: WinBackParams, churn_risk: float | None, predicted_clv: Decimal | None) -> Decimal:
    """The curve's value at this churn risk (unrounded), scaled by predicted value and capped."""
    if params.curve == "steps":
        value = params.steps[0][1]
        if churn_risk is not None:
            risk = Decimal(str(churn_risk))
            value = next((v for start, v in reversed(params.steps) if risk >= start), params.steps[0][1])
    elif churn_risk is None:
        value = min(params.value_from, params.value_to)
    else:
        risk = min(max(Decimal(str(churn_risk)), params.risk_from), params.risk_to)
        share = (risk - params.risk_from) / (params.risk_to - params.risk_from)
        value = params.value_from + (params.value_to - params.value_from) * share
    if params.clv_reference is not None:
        ratio = (predicted_clv or Decimal("0")) / params.clv_reference
        value *= min(max(ratio, params.scale_min), params.scale_max)
    if params.cap is not None:
        value = min(value, params.cap)
    return value


def _amount(value_kind: str, value: Decimal, subtotal: Decimal) -> Decimal:
    raw = value if value_kind == FIXED else subtotal * value / HUNDRED
    return min(money(raw), subtotal)


def _rule_offer(rule: Rule, facts: Facts, subtotal: Decimal) -> Offer | Declined | None:
    """The offer one automatic rule makes, a refusal with its reason, or ``None`` for kinds that act elsewhere."""
    p = rule.params
    stacking, limit = rule.stacking, rule.max_total_percent
    if isinstance(p, CumulativeParams):
        reached = cumulative_percent(p, facts)
        if reached is None:
            return Declined(rule.id, rule.kind, Reason("below_first_tier", {"basis": p.basis, "from": p.tiers[0][0]}))
        threshold, percent = reached
        reason = Reason("tier_reached", {"basis": p.basis, "from": threshold, "percent": percent})
        return Offer(
            rule.id, rule.kind, _amount("percent", percent, subtotal), reason, percent, "", "", stacking, limit
        )
    if isinstance(p, WinBackParams):
        if not win_back_qualifies(p, facts):
            return Declined(rule.id, rule.kind, Reason("not_slipping", {"risk": facts.churn_risk}))
        value = win_back_value(p, facts.churn_risk, facts.predicted_clv)
        reason = Reason(
            "win_back",
            {"risk": facts.churn_risk, "days": facts.days_since_last_order, "value": value, "kind": p.value_kind},
        )
        amount = _amount(p.value_kind, value, subtotal)
        shown = value if p.value_kind == "percent" else None
        return Offer(rule.id, rule.kind, amount, reason, shown, "", "", stacking, limit)
    if isinstance(p, VipPerkParams):
        reason = Reason("vip_perk", {"tier": facts.tier, "perk": p.perk})
        amount = _amount("percent", p.percent, subtotal)
        return Offer(rule.id, rule.kind, amount, reason, p.percent or None, "", p.perk, stacking, limit)
    return None


def _code_offer(code: CodeOffer, facts: Facts, subtotal: Decimal, today: date) -> Offer | Declined:
    rule = code.rule
    if rule is not None:
        failed = failed_condition(rule.conditions, facts, subtotal, today)
        if failed is not None:
            return Declined(rule.id, rule.kind, failed, code.code)
    if code.min_order is not None and subtotal < code.min_order:
        return Declined(
            rule.id if rule else None, code.source, Reason("min_order", {"min_order": code.min_order}), code.code
        )
    amount = _amount(code.value_kind, code.value, subtotal)
    percent = code.value if code.value_kind == "percent" else None
    reason = Reason(f"{code.source}_code", {"code": code.code, "value": code.value, "kind": code.value_kind})
    stacking = rule.stacking if rule else BEST
    limit = rule.max_total_percent if rule else None
    return Offer(rule.id if rule else None, code.source, amount, reason, percent, code.code, "", stacking, limit)


def _within_budget(offer: Offer, rule: Rule | None) -> Offer | Declined:
    if rule is None or rule.budget_left is None or offer.amount <= rule.budget_left:
        return offer
    if rule.budget_left <= 0:
        return Declined(rule.id, rule.kind, Reason("budget_spent"), offer.code)
    return _with_amount(offer, money(rule.budget_left))


def _with_amount(offer: Offer, amount: Decimal) -> Offer:
    return Offer(
        offer.rule_id, offer.kind, amount, offer.reason, offer.percent, offer.code, offer.perk, offer.stacking,
        offer.max_total_percent,
    )  # fmt: skip


def candidate_offers(
    facts: Facts, subtotal: Decimal, rules: list[Rule], codes: list[CodeOffer], today: date
) -> tuple[list[Offer], list[Declined]]:
    offers: list[Offer] = []
    declined: list[Declined] = []
    by_id = {rule.id: rule for rule in rules}
    for rule in sorted(rules, key=lambda r: r.id):
        if rule.kind not in (Kind.CUMULATIVE, Kind.WIN_BACK, Kind.VIP_PERK):
            continue
        failed = failed_condition(rule.conditions, facts, subtotal, today)
        if failed is not None:
            declined.append(Declined(rule.id, rule.kind, failed))
            continue
        if in_control_group(rule.id, facts.customer_id, rule.control_share):
            declined.append(Declined(rule.id, rule.kind, Reason("control_group")))
            continue
        _sort(_rule_offer(rule, facts, subtotal), offers, declined)
    for code in codes:
        _sort(_code_offer(code, facts, subtotal, today), offers, declined)
    checked: list[Offer] = []
    for offer in offers:
        _sort(_within_budget(offer, by_id.get(offer.rule_id) if offer.rule_id is not None else None), checked, declined)
    return checked, declined


def _sort(outcome: Offer | Declined | None, offers: list[Offer], declined: list[Declined]) -> None:
    if isinstance(outcome, Offer):
        offers.append(outcome)
    elif isinstance(outcome, Declined):
        declined.append(outcome)


def _capped_stack(stackable: list[Offer], subtotal: Decimal) -> list[Offer]:
    """The stackable offers, most valuable first, until the smallest ``max_total_percent`` among them (or the
    subtotal) is used up; the last one is cut to fit. Empty unless at least two stack."""
    if len(stackable) < 2:
        return []
    limits = [o.max_total_percent for o in stackable if o.max_total_percent is not None]
    left = min(money(subtotal * min(limits) / HUNDRED) if limits else subtotal, subtotal)
    stack: list[Offer] = []
    for offer in stackable:
        take = min(offer.amount, left)
        if take > 0:
            stack.append(offer if take == offer.amount else _with_amount(offer, take))
            left -= take
    return stack


def combine(offers: list[Offer], subtotal: Decimal) -> tuple[list[Offer], list[Declined]]:
    """The stacking policy: the better of the best single offer and the capped stack (see the module's text)."""
    perks = [o for o in offers if o.amount <= 0]
    valued = sorted((o for o in offers if o.amount > 0), key=lambda o: (-o.amount, o.rule_id or 0, o.code))
    if not valued:
        return perks, []
    best = valued[0]
    stack = _capped_stack([o for o in valued if o.stacking == STACK], subtotal)
    chosen = stack if sum((o.amount for o in stack), ZERO) > best.amount else [best]
    chosen_keys = {(o.rule_id, o.code, o.kind) for o in chosen}
    left_out = [o for o in valued if (o.rule_id, o.code, o.kind) not in chosen_keys]
    # A VIP perk keeps its delivery terms even when its percent lost to a better discount.
    perks += [_with_amount(o, ZERO) for o in left_out if o.perk]
    declined = [Declined(o.rule_id, o.kind, Reason("not_combined"), o.code) for o in left_out if not o.perk]
    return perks + chosen, declined


def spread(discount: Decimal, lines: tuple[CartLine, ...]) -> tuple[tuple[str, Decimal], ...]:
    """The discount over the lines in proportion to their totals, largest remainder first, to the cent."""
    if not lines:
        return ()
    total = sum((line.amount for line in lines), ZERO)
    if total <= 0 or discount <= 0:
        return tuple((line.key, ZERO) for line in lines)
    cents = int(discount / CENT)
    exact = [line.amount * cents / total for line in lines]
    floors = [int(value.to_integral_value(rounding=ROUND_DOWN)) for value in exact]
    order = sorted(range(len(lines)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in order[: cents - sum(floors)]:
        floors[index] += 1
    return tuple((line.key, CENT * share) for line, share in zip(lines, floors, strict=True))


def evaluate(
    *,
    facts: Facts,
    cart: Cart,
    rules: list[Rule],
    today: date,
    codes: list[CodeOffer] | None = None,
    balance: Decimal = ZERO,
    credit_share_percent: Decimal = HUNDRED,
    credit_wanted: Decimal | None = None,
) -> Quote:
    """The quote. ``credit_wanted`` is how much credit the customer wants to use (``None``: as much as allowed);
    credit may pay up to ``credit_share_percent`` of what is left after the discount, within the balance."""
    subtotal = cart.subtotal
    offers, declined = candidate_offers(facts, subtotal, rules, codes or [], today)
    applied, not_combined = combine(offers, subtotal)
    discount = min(sum((o.amount for o in applied), ZERO), subtotal)
    due = subtotal - discount
    available = max(min(balance, money(due * credit_share_percent / HUNDRED)), ZERO)
    applied_credit = available if credit_wanted is None else min(credit_wanted, available)
    return Quote(
        subtotal=subtotal,
        offers=tuple(applied),
        declined=tuple(declined + not_combined),
        discount=discount,
        line_discounts=spread(discount, cart.lines),
        credit_available=available,
        credit_applied=applied_credit,
        total=due - applied_credit,
    )
