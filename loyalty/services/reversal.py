"""A cancelled or returned order gives back what it earned and what it spent — in sets, like the accrual.

A task's batch of orders (up to 1,000) is one transaction of a fixed number of queries whatever its size: the
orders, the lots they earned and their redemptions (read first, to know whose accounts to lock), the account locks
(customers ``FOR KEY SHARE``, then accounts ``FOR UPDATE``, ascending id), the same lots read again under the
locks, the redemptions claimed (a conditional ``UPDATE … RETURNING``), their spends, one insert of every reversal
row with its running ``balance_after``, one update emptying the lots, one of the accounts, then the coupons, promo
uses, referral uses and the rules' budgets, each one statement for the whole batch.

Earned: each lot the order accrued (to the customer, and to a referrer; or moved to a merge's survivor) loses what
is left of it. **Credit already spent is not taken back**: a spend drew the lot down under the same account lock,
so what it paid for stays paid and the reversal row takes only the rest, saying how much was already spent
(``reason``: the code ``already_spent:<amount>``, read in the reader's language). The balance therefore never goes
below zero, even with spends running at the same moment: they wait for the lock, or the reversal waits for theirs
and then reads the lot as they left it. Unused coupons issued for the order are revoked. Spent: the order's
redemption is marked reversed, the credit it spent comes back as a new lot lasting as long as the spent credit would
have, its coupon becomes usable again, a promo use is given back, and the rules' budgets are released. The rows are
posted order by order (ascending id): an order's debits, then its refunds.

Once only: a lot is reversed only while it has something left and no reversal names it (``loyalty_entry_reversed_
once`` refuses a second), a redemption only by the ``UPDATE`` that moves it from applied to reversed. A lot that
moved to another customer between the first read and the locks (a merge) is left for the next run; the half-hourly
sweep reverses recent orders again.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
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
from loyalty.models.ledger import ALREADY_SPENT
from loyalty.services.ledger import Lot, accounts_lock, lots_post
from orders.models import Order, OrderStatus

REVERSING = (OrderStatus.CANCELLED, OrderStatus.RETURNED)
_LOT = tuple[int, int, int, Decimal, Decimal]  # id, order, customer, amount, remaining


def _earned_lots(order_ids: list[int], customers: list[int] | None = None) -> list[_LOT]:
    """The lots these orders earned with something left and no reversal yet (ascending id); only those of
    ``customers`` when given (the locked ones)."""
    lots = (
        LedgerEntry.objects.filter(order_id__in=order_ids, amount__gt=0, remaining__gt=0)
        .filter(Q(kind=EntryKind.ACCRUAL) | Q(kind=EntryKind.ADJUSTMENT, purpose=Purpose.MERGE))
        .exclude(undone_by__kind=EntryKind.REVERSAL)
    )
    if customers is not None:
        lots = lots.filter(customer_id__in=customers)
    rows = lots.order_by("pk").values_list("pk", "order_id", "customer_id", "amount", "remaining")
    return [
        (pk, order_id or 0, customer_id, amount, remaining) for pk, order_id, customer_id, amount, remaining in rows
    ]


def _applied_redemptions(orders: list[Order]) -> tuple[dict[int, int], set[int]]:
    """The applied redemption of each order that has one, ``{redemption id: order id}``, and their customers. One
    query over the orders' external ids, narrowed to the exact (source, external id) pairs here."""
    by_pair = {(o.source, o.external_id): o.pk for o in orders}
    rows = Redemption.objects.filter(
        state=RedemptionState.APPLIED, order_external_id__in={o.external_id for o in orders}
    ).values_list("pk", "order_source", "order_external_id", "customer_id")
    found = [(pk, by_pair[(source, external)], customer) for pk, source, external, customer in rows
             if (source, external) in by_pair]  # fmt: skip
    return {pk: order_id for pk, order_id, _customer in found}, {customer for _pk, _order, customer in found}


def _claim(redemptions: dict[int, int], customers: list[int], now: datetime) -> dict[int, int]:
    """Move the redemptions of locked customers from applied to reversed, once: ``{redemption id: customer id}``
    of those this call moved."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Redemption._meta.db_table} SET state = %s, reversed_at = %s "  # noqa: S608  (the model's table)
            "WHERE id = ANY(%s) AND state = %s AND customer_id = ANY(%s) RETURNING id, customer_id",
            [RedemptionState.REVERSED, now, list(redemptions), RedemptionState.APPLIED, customers],
        )
        return dict(cursor.fetchall())


def _rows(
    lots: list[_LOT], claimed: dict[int, int], redemptions: dict[int, int], order_ids: list[int]
) -> tuple[list[Lot], list[int]]:
    """The reversal rows in posting order — per order, ascending: its lots' debits (what is left of each), then
    its spends' refunds — and the ids of the lots they empty."""
    debits: dict[int, list[Lot]] = defaultdict(list)
    for pk, order_id, customer_id, amount, remaining in lots:
        reason = "" if remaining == amount else f"{ALREADY_SPENT}:{amount - remaining}"
        debits[order_id].append(
            Lot(customer_id, -remaining, Purpose.ORDER_RETURNED, order_id=order_id, source_entry_id=pk, reason=reason)
        )
    refunds: dict[int, list[Lot]] = defaultdict(list)
    spends = LedgerEntry.objects.filter(redemption_id__in=list(claimed), kind=EntryKind.SPEND).order_by("pk")
    for pk, redemption_id, amount, expires_at in spends.values_list("pk", "redemption_id", "amount", "expires_at"):
        order_id = redemptions[redemption_id or 0]
        refunds[order_id].append(
            Lot(claimed[redemption_id or 0], -amount, Purpose.ORDER_RETURNED, order_id=order_id,
                expires_at=expires_at, source_entry_id=pk)
        )  # fmt: skip
    rows = [row for order_id in sorted(order_ids) for row in debits[order_id] + refunds[order_id]]
    return rows, [lot[0] for lot in lots]


def _give_back(claimed: list[int], order_ids: list[int], now: datetime) -> None:
    """Coupons, promo uses, referral uses and budgets, one statement each for the whole batch."""
    Coupon.objects.filter(issued_for_order_id__in=order_ids, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    if not claimed:
        return
    Coupon.objects.filter(redemption_id__in=claimed).update(used_at=None, redemption=None)
    # Promo codes are shared between customers: locked in ascending id before the update, so two batches giving
    # back uses of the same codes queue instead of deadlocking.
    codes, uses = PromoCode._meta.db_table, PromoCodeUse._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {codes} WHERE id IN (SELECT code_id FROM {uses} WHERE redemption_id = ANY(%s)) "  # noqa: S608  (model tables)
            "ORDER BY id FOR NO KEY UPDATE",
            [claimed],
        )
        cursor.execute(
            f"UPDATE {codes} AS p SET uses = greatest(p.uses - u.n, 0) "  # noqa: S608  (model tables)
            f"FROM (SELECT code_id, count(*) AS n FROM {uses} WHERE redemption_id = ANY(%s) GROUP BY code_id) AS u "
            "WHERE p.id = u.code_id",
            [claimed],
        )
    PromoCodeUse.objects.filter(redemption_id__in=claimed).delete()
    ReferralUse.objects.filter(redemption_id__in=claimed, rewarded_at__isnull=True).delete()
    _budgets_release(claimed)


def _budgets_release(claimed: list[int]) -> None:
    """What the redemptions' offers took from each rule's budget goes back (never below zero). The rules are
    locked in ascending id first (``FOR NO KEY UPDATE``, what the accrual takes), after the accounts."""
    taken: dict[int, Decimal] = defaultdict(Decimal)
    offers = RedemptionOffer.objects.filter(redemption_id__in=claimed, rule__isnull=False)
    for rule_id, amount in offers.values_list("rule_id", "amount"):
        taken[rule_id or 0] += amount
    if not taken:
        return
    list(LoyaltyRule.objects.select_for_update(no_key=True).filter(pk__in=list(taken)).order_by("pk").values("pk"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {LoyaltyRule._meta.db_table} AS r SET budget_spent = greatest(r.budget_spent - t.amount, 0) "  # noqa: S608
            f"FROM unnest(%s::bigint[], %s::numeric[]) AS t(rule_id, amount) WHERE r.id = t.rule_id",
            [list(taken), list(taken.values())],
        )


def loyalty_reverse_for_orders(*, order_ids: list[int], now: datetime | None = None) -> int:
    """Reverse what cancelled or returned orders earned and spent, the whole batch in one transaction of a fixed
    number of queries (see the module's text). Idempotent. Returns how many orders were looked at."""
    moment = now or timezone.now()
    orders = list(Order.objects.filter(pk__in=order_ids, status__in=REVERSING).order_by("pk"))
    if not orders:
        return 0
    ids = [o.pk for o in orders]
    with transaction.atomic():
        redemptions, owners = _applied_redemptions(orders)
        first_read = _earned_lots(ids)
        accounts = accounts_lock({lot[2] for lot in first_read} | owners)
        locked = list(accounts)
        lots = _earned_lots(ids, locked)
        claimed = _claim(redemptions, locked, moment)
        rows, emptied = _rows(lots, claimed, redemptions, ids)
        lots_post(rows, accounts, now=moment, kind=EntryKind.REVERSAL)
        LedgerEntry.objects.filter(pk__in=emptied).update(remaining=Decimal("0"))
        _give_back(list(claimed), ids, moment)
    return len(orders)
