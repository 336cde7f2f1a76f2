"""A cancelled or returned order gives back what it earned and what it spent.

Earned: the credit lots the order accrued (to the customer, and to a referrer) lose what is left of them — credit
already spent on later orders cannot be taken back without a negative balance, which the ledger forbids, so the
reversal row says how much was still there; unused coupons issued for the order are revoked. Spent: the order's
redemption is marked reversed, the credit it spent comes back as a new lot lasting as long as the spent credit
would have, its coupon becomes usable again, a promo use is given back, and the rules' budgets are released.
Each reversal is once only (a unique index per reversed row, and a conditional UPDATE of the redemption's state).
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from loyalty.models import (
    Coupon,
    EntryKind,
    LedgerEntry,
    LoyaltyRule,
    PromoCode,
    PromoCodeUse,
    Purpose,
    Redemption,
    RedemptionOffer,
    RedemptionState,
    ReferralUse,
)
from loyalty.services.ledger import accounts_lock, post
from orders.models import Order, OrderStatus

REVERSING = (OrderStatus.CANCELLED, OrderStatus.RETURNED)


def _earned_lots(order: Order) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(order=order, amount__gt=0, remaining__gt=0)
        .filter(Q(kind=EntryKind.ACCRUAL) | Q(kind=EntryKind.ADJUSTMENT, purpose=Purpose.MERGE))
        .exclude(undone_by__kind=EntryKind.REVERSAL)
        .order_by("pk")
    )


def _reverse_order(order: Order, now: datetime) -> None:
    lots = _earned_lots(order)
    redemption = (
        Redemption.objects.filter(
            order_source=order.source, order_external_id=order.external_id, state=RedemptionState.APPLIED
        )
        .order_by("pk")
        .first()
    )
    customers = {lot.customer_id for lot in lots} | ({redemption.customer_id} if redemption else set())
    accounts = accounts_lock(customers)
    for lot in lots:
        fresh = LedgerEntry.objects.select_for_update().get(pk=lot.pk)
        if fresh.remaining <= 0:
            continue
        reason = "" if fresh.remaining == fresh.amount else f"{fresh.amount - fresh.remaining} already spent"
        post(
            accounts[fresh.customer_id], kind=EntryKind.REVERSAL, purpose=Purpose.ORDER_RETURNED,
            amount=-fresh.remaining, source_entry=fresh, order=order, reason=reason, created_at=now,
        )  # fmt: skip
        LedgerEntry.objects.filter(pk=fresh.pk).update(remaining=Decimal("0"))
    Coupon.objects.filter(issued_for_order=order, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    if redemption is not None:
        _reverse_redemption(redemption, accounts[redemption.customer_id], order, now)


def _reverse_redemption(redemption: Redemption, account: object, order: Order, now: datetime) -> None:
    claimed = Redemption.objects.filter(pk=redemption.pk, state=RedemptionState.APPLIED).update(
        state=RedemptionState.REVERSED, reversed_at=now
    )
    if not claimed:
        return
    for spend in LedgerEntry.objects.filter(redemption=redemption, kind=EntryKind.SPEND):
        post(
            account, kind=EntryKind.REVERSAL, purpose=Purpose.ORDER_RETURNED, amount=-spend.amount,  # type: ignore[arg-type]
            source_entry=spend, order=order, expires_at=spend.expires_at, created_at=now,
        )  # fmt: skip
    Coupon.objects.filter(redemption=redemption).update(used_at=None, redemption=None)
    for use in PromoCodeUse.objects.filter(redemption=redemption):
        PromoCode.objects.filter(pk=use.code_id, uses__gt=0).update(uses=F("uses") - 1)
        use.delete()
    ReferralUse.objects.filter(redemption=redemption, rewarded_at__isnull=True).delete()
    for row in RedemptionOffer.objects.filter(redemption=redemption, rule__isnull=False).order_by("rule_id"):
        LoyaltyRule.objects.filter(pk=row.rule_id or 0, budget_spent__gte=row.amount).update(
            budget_spent=F("budget_spent") - row.amount
        )


def loyalty_reverse_for_orders(*, order_ids: list[int], now: datetime | None = None) -> int:
    """Reverse what cancelled or returned orders earned and spent; one transaction per order, locking the
    customers' accounts (ascending id) first. Idempotent. Returns how many orders were looked at."""
    moment = now or timezone.now()
    count = 0
    for order in Order.objects.filter(pk__in=order_ids, status__in=REVERSING).order_by("pk"):
        with transaction.atomic():
            _reverse_order(order, moment)
        count += 1
    return count
