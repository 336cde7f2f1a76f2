"""What delivered orders earn (credit, next-order coupons, referral rewards, review rewards) and what a cancelled
or returned order gives back. Each is idempotent through unique keys, so a replayed signal or a second run of the
task changes nothing."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.engine.evaluate import Facts, failed_condition, in_control_group, money
from loyalty.engine.params import HUNDRED, CouponParams, ReferralParams, ReviewRewardParams, StoreCreditParams
from loyalty.errors import LoyaltyError
from loyalty.facts import customer_facts
from loyalty.models import LoyaltyRule, Purpose, ReferralUse, RuleKind
from loyalty.rulebook import active_rules, engine_rule
from loyalty.services.codes import coupon_issue
from loyalty.services.ledger import credit_accrue
from orders.models import Order, OrderStatus
from shop.permissions import user_can
from shop.roles import Capability


def _expiry(moment: datetime, days: int) -> datetime | None:
    return moment + timedelta(days=days) if days else None


def _budget_take(rule: LoyaltyRule, amount: Decimal) -> bool:
    """Raise the rule's spent budget by ``amount`` unless that passes the cap (a conditional UPDATE)."""
    return bool(
        LoyaltyRule.objects.filter(pk=rule.pk)
        .filter(Q(budget_cap__isnull=True) | Q(budget_spent__lte=F("budget_cap") - amount))
        .update(budget_spent=F("budget_spent") + amount)
    )


def _facts_before(order: Order) -> Facts:
    """The customer as they were when placing this order: its own delivery not yet counted, so "first order"
    conditions read the way the owner means them."""
    facts = customer_facts(order.customer)
    return replace(
        facts,
        delivered_orders=max(facts.delivered_orders - 1, 0),
        lifetime_spend=max(facts.lifetime_spend - order.total, Decimal("0")),
    )


def _eligible(rule: LoyaltyRule, facts: Facts, order: Order) -> bool:
    spec = engine_rule(rule)
    if failed_condition(spec.conditions, facts, order.total, timezone.localdate(order.delivered_at)) is not None:
        return False
    return not in_control_group(rule.pk, facts.customer_id, spec.control_share)


def _accrue_order(order: Order, rules: list[LoyaltyRule], now: datetime) -> None:
    facts = _facts_before(order)
    delivered_at = order.delivered_at or now
    for rule in rules:
        params = engine_rule(rule).params
        if isinstance(params, StoreCreditParams) and _eligible(rule, facts, order):
            amount = params.value if params.accrual_kind == "fixed" else money(order.total * params.value / HUNDRED)
            if amount > 0 and _budget_take(rule, amount):
                entry = credit_accrue(
                    customer_id=order.customer_id, amount=amount, purpose=Purpose.STORE_CREDIT, rule=rule,
                    order=order, expires_at=_expiry(delivered_at, params.expires_days),
                )  # fmt: skip
                if entry is None:  # accrued before: give the budget back
                    LoyaltyRule.objects.filter(pk=rule.pk).update(budget_spent=F("budget_spent") - amount)
        elif isinstance(params, CouponParams) and _eligible(rule, facts, order):
            coupon_issue(
                customer_id=order.customer_id, value_kind=params.value_kind, value=params.value,
                valid_until=now + timedelta(days=params.valid_days), rule=rule, order=order,
                min_order=params.min_order,
            )  # fmt: skip
    _reward_referral(order, rules, facts, delivered_at)


def _reward_referral(order: Order, rules: list[LoyaltyRule], facts: Facts, moment: datetime) -> None:
    """The referee's first delivered order with the code rewards both sides, once (``rewarded_at`` is claimed by a
    conditional UPDATE)."""
    referral_rules = [r for r in rules if r.kind == RuleKind.REFERRAL]
    if not referral_rules or facts.delivered_orders != 0:
        return
    use = (
        ReferralUse.objects.select_related("referral_code")
        .filter(referee_id=order.customer_id, rewarded_at__isnull=True)
        .filter(redemption__order_source=order.source, redemption__order_external_id=order.external_id)
        .first()
    )
    if use is None or not ReferralUse.objects.filter(pk=use.pk, rewarded_at__isnull=True).update(rewarded_at=moment):
        return
    rule = referral_rules[0]
    params = engine_rule(rule).params
    assert isinstance(params, ReferralParams)
    expires = _expiry(moment, params.expires_days)
    pairs = [(use.referral_code.customer_id, params.referrer_amount, Purpose.REFERRER)]
    pairs.append((order.customer_id, params.referee_amount, Purpose.REFEREE))
    for customer_id, amount, purpose in sorted(pairs):
        if amount > 0 and _budget_take(rule, amount):
            credit_accrue(
                customer_id=customer_id, amount=amount, purpose=purpose, rule=rule, order=order, expires_at=expires
            )


def loyalty_accrue_for_orders(*, order_ids: list[int], now: datetime | None = None) -> int:
    """Accrue what each delivered order earns under the active rules. One transaction per order (its customer's
    account lock, then the referrer's). Idempotent. Returns how many orders were looked at."""
    moment = now or timezone.now()
    orders = Order.objects.select_related("customer").filter(pk__in=order_ids, status=OrderStatus.DELIVERED)
    count = 0
    for order in orders.order_by("pk"):
        rules = [r for r in active_rules(timezone.localdate(moment)) if r.kind in _ACCRUING]
        with transaction.atomic():
            _accrue_order(order, rules, moment)
        count += 1
    return count


_ACCRUING = (RuleKind.STORE_CREDIT, RuleKind.NEXT_ORDER_COUPON, RuleKind.REFERRAL)


def review_reward_grant(*, order: Order, user: Any, now: datetime | None = None) -> Any:
    """A manager confirms a review or social post for a delivered order: the customer gets the active review rule's
    credit, once per order (a unique index). Needs ``browse``. Returns the entry, or ``None`` if already paid."""
    if not user_can(user, Capability.BROWSE):
        raise PermissionDenied(_("Only managers and owners confirm reviews."))
    if order.status != OrderStatus.DELIVERED:
        raise LoyaltyError("not_delivered", _("A review is rewarded for a delivered order only."), field="order")
    moment = now or timezone.now()
    rules = [r for r in active_rules(timezone.localdate(moment)) if r.kind == RuleKind.REVIEW_REWARD]
    if not rules:
        raise LoyaltyError("no_review_rule", _("No review reward rule is active."))
    rule = rules[0]
    params = engine_rule(rule).params
    assert isinstance(params, ReviewRewardParams)
    with transaction.atomic():
        if not _budget_take(rule, params.amount):
            raise LoyaltyError("budget_spent", _("The review reward's budget is used up."), status=409)
        entry = credit_accrue(
            customer_id=order.customer_id, amount=params.amount, purpose=Purpose.REVIEW, rule=rule, order=order,
            expires_at=_expiry(moment, params.expires_days), user=user,
        )  # fmt: skip
        if entry is None:
            LoyaltyRule.objects.filter(pk=rule.pk).update(budget_spent=F("budget_spent") - params.amount)
    return entry
