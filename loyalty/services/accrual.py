"""What delivered orders earn (credit, next-order coupons, referral rewards, review rewards). Idempotent through
unique keys, so a replayed signal or a second run of the task changes nothing.

Delivered orders are accrued in sets: one transaction for a task's batch (up to 1,000 orders), a fixed number of
queries whatever its size — the orders, the rules, the customers' facts (two grouped reads), the referral uses, the
account locks, the accruals already posted, one insert of the ledger rows and one of the coupons."""

from dataclasses import astuple, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.engine.evaluate import Facts, Rule, failed_condition, in_control_group, money
from loyalty.engine.params import HUNDRED, CouponParams, ReferralParams, ReviewRewardParams, StoreCreditParams
from loyalty.errors import LoyaltyError
from loyalty.facts import facts_before_orders
from loyalty.models import Coupon, EntryKind, LedgerEntry, LoyaltyRule, Purpose, ReferralUse, RuleKind
from loyalty.rulebook import active_rules, engine_rule
from loyalty.services.codes import new_code
from loyalty.services.ledger import Lot, accounts_lock, credit_accrue, lots_post
from orders.models import Order, OrderStatus
from shop.permissions import user_can
from shop.roles import Capability

_ACCRUING = (RuleKind.STORE_CREDIT, RuleKind.NEXT_ORDER_COUPON, RuleKind.REFERRAL)


def _expiry(moment: datetime, days: int) -> datetime | None:
    return moment + timedelta(days=days) if days else None


def _budget_take(rule: LoyaltyRule, amount: Decimal) -> bool:
    """Raise the rule's spent budget by ``amount`` unless that passes the cap (a conditional UPDATE)."""
    return bool(
        LoyaltyRule.objects.filter(pk=rule.pk)
        .filter(Q(budget_cap__isnull=True) | Q(budget_spent__lte=F("budget_cap") - amount))
        .update(budget_spent=F("budget_spent") + amount)
    )


@dataclass
class _Plan:
    """What a batch of orders earns before anything is locked: credit lots and coupons in (order, rule) order,
    and the orders that were their customer's first delivered one (for referral rewards)."""

    lots: list[Lot] = field(default_factory=list)
    coupons: list["_NewCoupon"] = field(default_factory=list)
    first_orders: list[Order] = field(default_factory=list)


def _eligible(spec: Rule, facts: Facts, order: Order) -> bool:
    if failed_condition(spec.conditions, facts, order.total, timezone.localdate(order.delivered_at)) is not None:
        return False
    return not in_control_group(spec.id, facts.customer_id, spec.control_share)


def _plan(orders: list[Order], specs: list[Rule], moment: datetime) -> _Plan:
    """Pure arithmetic over the facts: each amount computed exactly and quantised once (``money``)."""
    plan = _Plan()
    facts = facts_before_orders(orders)
    for order in orders:
        before = facts[order.pk]
        delivered_at = order.delivered_at or moment
        for spec in specs:
            params = spec.params
            if isinstance(params, StoreCreditParams) and _eligible(spec, before, order):
                amount = params.value if params.accrual_kind == "fixed" else money(order.total * params.value / HUNDRED)
                if amount > 0:
                    plan.lots.append(
                        Lot(order.customer_id, amount, Purpose.STORE_CREDIT, spec.id, order.pk,
                            _expiry(delivered_at, params.expires_days))
                    )  # fmt: skip
            elif isinstance(params, CouponParams) and _eligible(spec, before, order):
                plan.coupons.append(
                    _NewCoupon(
                        order.pk, spec.id, order.customer_id, params.value_kind, params.value, params.min_order,
                        moment + timedelta(days=params.valid_days),
                    )
                )  # fmt: skip
        if before.delivered_orders == 0:
            plan.first_orders.append(order)
    return plan


def _referral_uses(orders: list[Order]) -> list[tuple[Order, ReferralUse]]:
    """The unrewarded referral uses redeemed on these first orders (one query)."""
    by_order = {(o.customer_id, o.source, o.external_id): o for o in orders}
    uses = ReferralUse.objects.select_related("referral_code", "redemption").filter(
        referee_id__in=[o.customer_id for o in orders], rewarded_at__isnull=True, redemption__isnull=False
    )
    found = []
    for use in uses.order_by("pk"):
        redemption = use.redemption
        assert redemption is not None  # the filter
        order = by_order.get((use.referee_id, redemption.order_source, redemption.order_external_id))
        if order is not None:
            found.append((order, use))
    return found


def _referral_lots(pairs: list[tuple[Order, ReferralUse]], rule: LoyaltyRule, moment: datetime) -> list[Lot]:
    """The referee's first delivered order with the code rewards both sides, once: ``rewarded_at`` is claimed by a
    conditional UPDATE (under the accounts' locks)."""
    params = engine_rule(rule).params
    assert isinstance(params, ReferralParams)
    lots = []
    for order, use in pairs:
        delivered_at = order.delivered_at or moment
        if not ReferralUse.objects.filter(pk=use.pk, rewarded_at__isnull=True).update(rewarded_at=delivered_at):
            continue
        expires = _expiry(delivered_at, params.expires_days)
        sides = [(use.referral_code.customer_id, params.referrer_amount, Purpose.REFERRER)]
        sides.append((order.customer_id, params.referee_amount, Purpose.REFEREE))
        lots += [
            Lot(customer_id, amount, purpose, rule.pk, order.pk, expires)
            for customer_id, amount, purpose in sorted(sides)
            if amount > 0
        ]
    return lots


def _not_posted(lots: list[Lot], order_ids: list[int]) -> list[Lot]:
    """The lots not in the ledger yet (read under the accounts' locks, so no other accrual can post them now)."""
    posted = set(
        LedgerEntry.objects.filter(kind=EntryKind.ACCRUAL, order_id__in=order_ids).values_list(
            "order_id", "rule_id", "customer_id", "purpose"
        )
    )
    return [lot for lot in lots if (lot.order_id, lot.rule_id, lot.customer_id, lot.purpose) not in posted]


def _within_budgets(lots: list[Lot]) -> list[Lot]:
    """The lots the rules' budgets can pay, in order (a lot that does not fit is skipped, a later smaller one may
    still fit); each rule's spent budget grows by what it pays. Locks the capped rules' rows (``FOR NO KEY
    UPDATE``, what an UPDATE takes), after the accounts: the lock order of ``loyalty.services.ledger``."""
    rule_ids = sorted({lot.rule_id for lot in lots if lot.rule_id is not None})
    capped = LoyaltyRule.objects.select_for_update(no_key=True).filter(pk__in=rule_ids, budget_cap__isnull=False)
    left = {pk: cap - spent for pk, cap, spent in capped.order_by("pk").values_list("pk", "budget_cap", "budget_spent")}
    paid: dict[int, Decimal] = {}
    kept = []
    for lot in lots:
        rule_id = lot.rule_id or 0
        if rule_id in left and lot.amount > left[rule_id]:
            continue
        if rule_id in left:
            left[rule_id] -= lot.amount
        paid[rule_id] = paid.get(rule_id, Decimal("0")) + lot.amount
        kept.append(lot)
    for rule_id, amount in sorted(paid.items()):
        LoyaltyRule.objects.filter(pk=rule_id).update(budget_spent=F("budget_spent") + amount)
    return kept


@dataclass(frozen=True)
class _NewCoupon:
    order_id: int
    rule_id: int
    customer_id: int
    value_kind: str
    value: Decimal
    min_order: Decimal | None
    valid_until: datetime


_COUPONS_INSERT = f"""
    INSERT INTO {Coupon._meta.db_table} (code, issued_for_order_id, rule_id, customer_id, value_kind, value,
                                         min_order, valid_until, created_at)
    SELECT v.*, %s FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::numeric[],
                               %s::numeric[], %s::timestamptz[]) AS v
    ON CONFLICT DO NOTHING
    RETURNING issued_for_order_id, rule_id
"""  # noqa: S608  (the table name comes from the model)


def _coupons_issue(coupons: list[_NewCoupon], now: datetime) -> None:
    """One ``INSERT … ON CONFLICT DO NOTHING``: a coupon already issued for its (order, rule) is skipped. A code
    collision (1 in 2⁴⁹) skips a row too; only then are the skipped rows looked up, and the collided ones drawn
    again with fresh codes."""
    for _attempt in range(5):
        if not coupons:
            return
        columns = [[new_code("C") for _c in coupons]] + [
            list(column) for column in zip(*map(astuple, coupons), strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(_COUPONS_INSERT, [now, *columns])
            issued = set(cursor.fetchall())
        skipped = [c for c in coupons if (c.order_id, c.rule_id) not in issued]
        if skipped:
            issued = set(
                Coupon.objects.filter(issued_for_order_id__in={c.order_id for c in skipped}).values_list(
                    "issued_for_order_id", "rule_id"
                )
            )
        coupons = [c for c in skipped if (c.order_id, c.rule_id) not in issued]
    if coupons:
        raise RuntimeError("could not draw unique coupon codes")


def loyalty_accrue_for_orders(*, order_ids: list[int], now: datetime | None = None) -> int:
    """Accrue what delivered orders earn under the active rules, all in one transaction: locks the accounts of
    every customer credited (referrers included) in ascending id, then the referral uses, then the capped rules.
    Idempotent (the accruals already posted are left out, the inserts skip conflicts). Returns how many orders were
    looked at."""
    moment = now or timezone.now()
    orders = list(
        Order.objects.select_related("customer").filter(pk__in=order_ids, status=OrderStatus.DELIVERED).order_by("pk")
    )
    rules = [r for r in active_rules(timezone.localdate(moment)) if r.kind in _ACCRUING]
    if not orders or not rules:
        return len(orders)
    plan = _plan(orders, [engine_rule(r) for r in rules if r.kind != RuleKind.REFERRAL], moment)
    referral_rule = next((r for r in rules if r.kind == RuleKind.REFERRAL), None)
    with transaction.atomic():
        pairs = _referral_uses(plan.first_orders) if referral_rule and plan.first_orders else []
        customers = {lot.customer_id for lot in plan.lots} | {o.customer_id for o, _use in pairs}
        accounts = accounts_lock(customers | {use.referral_code.customer_id for _o, use in pairs})
        lots = _not_posted(plan.lots, [o.pk for o in orders])
        if referral_rule is not None:
            lots += _referral_lots(pairs, referral_rule, moment)
        lots_post(_within_budgets(lots), accounts, now=moment)
        _coupons_issue(plan.coupons, moment)
    return len(orders)


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
