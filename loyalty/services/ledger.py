"""Moving store credit: every movement is a ledger row posted under the customer's account lock.

Lock order, everywhere in loyalty: the customer's ``LoyaltyAccount`` row first (in ascending customer id when a
service holds several), then coupons and promo codes, then rules' budgets. Two movements of one customer therefore
queue on one row; the database checks (balance ≥ 0, ``balance_after`` ≥ 0) stop any writer that skipped it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from loyalty.errors import BalanceError, LoyaltyError
from loyalty.models import EntryKind, LedgerEntry, LoyaltyAccount, LoyaltyRule, Purpose, Redemption
from orders.models import Order
from shop.audit import audit_record
from shop.models import AuditKind
from shop.money import format_money
from shop.permissions import user_can
from shop.roles import Capability

ZERO = Decimal("0.00")


def _customers_key_share(ids: list[int]) -> None:
    """``FOR KEY SHARE`` on the customer rows first, in id order: every redemption inserted later takes this lock
    anyway (its foreign key; a ledger row's customer is checked through its account, migration 0009), and taking it
    before the account keeps the global lock order of docs/architecture.md (customer rows, then an app's own rows),
    so a merge (which locks the customers, then moves the accounts) and a redemption of the same customer cannot
    deadlock."""
    if connection.vendor != "postgresql" or not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Customer._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",  # noqa: S608
            [ids],
        )


def accounts_lock(customer_ids: Iterable[int]) -> dict[int, LoyaltyAccount]:
    """Create the missing accounts (``ON CONFLICT DO NOTHING``, so two first movements do not collide) and lock
    all of them in ascending id order, after a key-share lock on their customer rows. Must run inside
    ``transaction.atomic``."""
    ids = sorted(set(customer_ids))
    _customers_key_share(ids)
    LoyaltyAccount.objects.bulk_create([LoyaltyAccount(customer_id=pk) for pk in ids], ignore_conflicts=True)
    return {a.pk: a for a in LoyaltyAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def account_lock(customer_id: int) -> LoyaltyAccount:
    return accounts_lock([customer_id])[customer_id]


def open_lots(customer_id: int, *, now: datetime) -> QuerySet[LedgerEntry]:
    """Credit that can still be spent, first to expire first (no expiry last)."""
    return (
        LedgerEntry.objects.filter(customer_id=customer_id, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by(F("expires_at").asc(nulls_last=True), "pk")
    )


def spendable(customer_id: int, *, now: datetime) -> Decimal:
    """The balance without lots past their expiry that the nightly run has not posted yet."""
    return sum((lot.remaining for lot in open_lots(customer_id, now=now).only("remaining")), ZERO)


def post(account: LoyaltyAccount, *, kind: str, purpose: str, amount: Decimal, **fields: Any) -> LedgerEntry:
    """Write one row on a locked account and move its balance. A credit is a lot (``remaining`` = amount)."""
    balance = account.balance + amount
    if balance < 0:
        raise BalanceError(
            "insufficient_balance",
            _("The credit balance is %(balance)s, less than the %(amount)s asked for.")
            % {"balance": format_money(account.balance), "amount": format_money(-amount)},
            field="credit",
        )
    entry = LedgerEntry.objects.create(
        customer_id=account.pk,
        kind=kind,
        purpose=purpose,
        amount=amount,
        balance_after=balance,
        remaining=amount if amount > 0 else ZERO,
        **fields,
    )
    account.balance = balance
    account.updated_at = timezone.now()
    account.save(update_fields=["balance", "updated_at"])
    return entry


def _consume(account: LoyaltyAccount, amount: Decimal, now: datetime) -> datetime | None:
    """Take ``amount`` from the open lots, first to expire first; returns the latest expiry drawn from (a refund
    lasts as long as the credit it gives back would have), or ``None`` when a lot never expires."""
    left, latest, never = amount, None, False
    changed: list[LedgerEntry] = []
    for lot in open_lots(account.pk, now=now).only("remaining", "expires_at", "amount"):
        take = min(lot.remaining, left)
        lot.remaining -= take
        left -= take
        changed.append(lot)
        never = never or lot.expires_at is None
        latest = lot.expires_at if latest is None or (lot.expires_at and lot.expires_at > latest) else latest
        if left <= 0:
            break
    if left > 0:
        raise BalanceError(
            "balance_spent",
            _(
                "The customer's credit cannot cover %(amount)s: %(left)s of it was spent or expired meanwhile "
                "(another request spent it first)."
            )
            % {"amount": format_money(amount), "left": format_money(left)},
            field="credit",
        )
    LedgerEntry.objects.bulk_update(changed, ["remaining"])
    return None if never else latest


def credit_spend(*, account: LoyaltyAccount, amount: Decimal, redemption: Redemption, now: datetime) -> LedgerEntry:
    """Debit a locked account for a redemption. Raises :class:`BalanceError` naming the shortfall."""
    latest = _consume(account, amount, now)
    # ``expires_at`` on a spend keeps the latest expiry of the lots it drew from, for the refund of a return.
    return post(
        account, kind=EntryKind.SPEND, purpose=Purpose.ORDER_PAYMENT, amount=-amount, redemption=redemption,
        expires_at=latest,
    )  # fmt: skip


def credit_accrue(
    *,
    customer_id: int,
    amount: Decimal,
    purpose: str,
    rule: LoyaltyRule | None = None,
    order: Order | None = None,
    expires_at: datetime | None = None,
    reason: str = "",
    user: Any = None,
) -> LedgerEntry | None:
    """Credit a customer. Locks their account. Idempotent per (order, rule, customer, purpose) through a unique
    index: a replay returns ``None`` and changes nothing. Must run inside ``transaction.atomic``."""
    if amount <= 0:
        return None
    account = account_lock(customer_id)
    try:
        with transaction.atomic():
            return post(
                account, kind=EntryKind.ACCRUAL, purpose=purpose, amount=amount, rule=rule, order=order,
                expires_at=expires_at, reason=reason[:300], created_by=_staff(user),
            )  # fmt: skip
    except IntegrityError:
        account.refresh_from_db(fields=["balance"])
        return None


def _staff(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def credit_adjust(
    *, customer_id: int, amount: Decimal, reason: str, user: Any, expires_at: datetime | None = None
) -> LedgerEntry:
    """The owner's manual adjustment, with a reason (required). Needs ``configure``. A debit takes from the lots
    that expire first and cannot take the balance below zero. Locks the account."""
    if not user_can(user, Capability.CONFIGURE):
        raise LoyaltyError("forbidden", _("Only the owner may adjust credit balances."), status=403)
    if not reason.strip():
        raise LoyaltyError("reason_required", _("Say why the balance is adjusted."), field="reason")
    if amount == 0:
        raise LoyaltyError("zero_amount", _("An adjustment of zero changes nothing."), field="amount")
    with transaction.atomic():
        account = account_lock(customer_id)
        if amount < 0:
            if spendable(customer_id, now=timezone.now()) < -amount:
                raise BalanceError(
                    "insufficient_balance",
                    _("The credit balance is %(balance)s, less than the %(amount)s to take off.")
                    % {"balance": format_money(account.balance), "amount": format_money(-amount)},
                    field="amount",
                )
            _consume(account, -amount, timezone.now())
        entry = post(
            account, kind=EntryKind.ADJUSTMENT, purpose=Purpose.OWNER, amount=amount, reason=reason.strip()[:300],
            created_by=_staff(user), expires_at=expires_at if amount > 0 else None,
        )  # fmt: skip
        audit_record(
            kind=AuditKind.MONEY,
            user=user,
            customer_id=customer_id,
            detail={"amount": str(amount), "reason": reason.strip()[:300], "balance": str(account.balance)},
        )
        return entry


@dataclass(frozen=True)
class Lot:
    """A row to post: a credit (a lot, what ``credit_accrue`` takes) or, for a reversal, a debit that names the lot
    it empties in ``source_entry_id`` — for many customers at once."""

    customer_id: int
    amount: Decimal
    purpose: str
    rule_id: int | None = None
    order_id: int | None = None
    expires_at: datetime | None = None
    source_entry_id: int | None = None
    reason: str = ""


_LOTS_INSERT = """
    INSERT INTO {ledger} (customer_id, kind, purpose, amount, balance_after, remaining, expires_at, order_id,
                          rule_id, source_entry_id, reason, created_at)
    SELECT v.customer_id, %s, v.purpose, v.amount, v.balance_after, greatest(v.amount, 0), v.expires_at, v.order_id,
           v.rule_id, v.source_entry_id, v.reason, %s
    FROM unnest(%s::bigint[], %s::text[], %s::numeric[], %s::numeric[], %s::timestamptz[], %s::bigint[],
                %s::bigint[], %s::bigint[], %s::text[])
         WITH ORDINALITY AS v(customer_id, purpose, amount, balance_after, expires_at, order_id, rule_id,
                              source_entry_id, reason, position)
    ORDER BY v.position
    ON CONFLICT DO NOTHING
    RETURNING id
"""
_ACCOUNTS_MOVE = """
    UPDATE {account} AS a SET balance = a.balance + d.delta, updated_at = %s
    FROM unnest(%s::bigint[], %s::numeric[]) AS d(customer_id, delta)
    WHERE a.customer_id = d.customer_id
"""


def lots_post(
    lots: list[Lot], accounts: dict[int, LoyaltyAccount], *, now: datetime, kind: str = EntryKind.ACCRUAL
) -> int:
    """Post rows of one ``kind`` (accrual lots, or a reversal's debits and refunds) on accounts already locked by
    :func:`accounts_lock`: one ``INSERT … ON CONFLICT DO NOTHING`` of the ledger rows (each ``balance_after``
    running on from its account, in list order; a credit is a lot, its ``remaining`` the amount) and one ``UPDATE``
    of the accounts. Returns how many rows were written.

    The caller has left out the lots already posted (read under the same locks), so the once-only indexes cannot
    fire here; if one does, a writer skipped the account lock and the ``balance_after`` figures behind it would be
    wrong, so the whole transaction is refused instead of posting them."""
    if not lots:
        return 0
    running = {customer_id: account.balance for customer_id, account in accounts.items()}
    after = []
    for lot in lots:
        running[lot.customer_id] += lot.amount
        after.append(running[lot.customer_id])
    columns = (
        [lot.customer_id for lot in lots], [lot.purpose for lot in lots], [lot.amount for lot in lots], after,
        [lot.expires_at for lot in lots], [lot.order_id for lot in lots], [lot.rule_id for lot in lots],
        [lot.source_entry_id for lot in lots], [lot.reason for lot in lots],
    )  # fmt: skip
    moved = {pk: running[pk] - accounts[pk].balance for pk in running if running[pk] != accounts[pk].balance}
    with connection.cursor() as cursor:
        cursor.execute(_LOTS_INSERT.format(ledger=LedgerEntry._meta.db_table), [kind, now, *columns])
        written = len(cursor.fetchall())
        if written != len(lots):
            raise IntegrityError(f"{len(lots) - written} of {len(lots)} credit lots were posted meanwhile")
        cursor.execute(
            _ACCOUNTS_MOVE.format(account=LoyaltyAccount._meta.db_table), [now, list(moved), list(moved.values())]
        )
    for pk, balance in running.items():
        accounts[pk].balance = balance
    return written
