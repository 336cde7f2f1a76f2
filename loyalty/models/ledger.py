"""The credit ledger: one row per movement of a customer's store credit, and the account row that carries the
balance and serialises every movement of one customer (``SELECT … FOR UPDATE`` on it)."""

import re
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from loyalty.models.rules import LoyaltyRule, money_field
from orders.models import Order


class LoyaltyAccount(models.Model):
    """A customer's credit balance: the sum of their ledger, kept on one row so that it can be locked and checked.

    Every service that moves credit locks this row first (``select_for_update``), then writes the ledger row with
    ``balance_after`` and the new balance; the two CHECK constraints make a negative balance impossible even for a
    writer that forgot the lock.

    The balance index holds only accounts with credit (the customer list's "balance from" filter, which starts at
    0.01), so an account emptied by the nightly expiry leaves it instead of getting a new entry; and the table
    keeps half of each page free (fillfactor 50, migration 0007), so the row's new version stays on its page."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.PROTECT, related_name="loyalty_account"
    )
    balance = money_field(_("balance"), default=Decimal("0"))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="loyalty_account_balance_not_negative")
        ]
        indexes: ClassVar = [
            models.Index(fields=["balance", "customer"], condition=Q(balance__gt=0), name="loyalty_account_credit")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}"


class EntryKind(models.TextChoices):
    ACCRUAL = "accrual", _("Accrual")
    SPEND = "spend", _("Spend")
    EXPIRY = "expiry", _("Expiry")
    REVERSAL = "reversal", _("Reversal")
    ADJUSTMENT = "adjustment", _("Adjustment")


class Purpose(models.TextChoices):
    """What a movement was for: the card's line and the accrual's once-only key."""

    STORE_CREDIT = "store_credit", _("Credit for a delivered order")
    REVIEW = "review", _("Reward for a review")
    REFERRER = "referrer", _("Reward for a referral")
    REFEREE = "referee", _("Welcome credit from a referral")
    WIN_BACK = "win_back", _("Win-back credit")
    ORDER_PAYMENT = "order_payment", _("Paid part of an order")
    EXPIRED = "expired", _("Expired")
    ORDER_RETURNED = "order_returned", _("Order returned or cancelled")
    OWNER = "owner", _("Adjusted by the owner")
    MERGE = "merge", _("Moved from a merged duplicate")


# A reversal's reason: the part of the lot already spent, which it could not take back. Stored as a code with its
# amount (``already_spent:30.00``), never as a sentence; rows written before the code say "30.00 already spent" in
# English and read the same way.
ALREADY_SPENT = "already_spent"
_ALREADY_SPENT = re.compile(rf"{ALREADY_SPENT}:(?P<code>-?[0-9.]+)|(?P<sentence>-?[0-9.]+) already spent")


class LedgerEntry(models.Model):
    """One movement. ``amount`` is signed (credit +, debit −); ``balance_after`` is the balance once it posted.

    A positive row is a *lot*: ``remaining`` is the part not yet spent, expired or reversed, and ``expires_at``
    when that part lapses. Spending draws from the lots that expire first. An expiry or reversal names the row it
    undoes in ``source_entry``; partial unique indexes make each happen at most once, so the nightly expiry and a
    replayed return are harmless the second time."""

    # The foreign keys carry no index of their own: ``loyalty_entry_customer`` and ``loyalty_entry_order`` serve the
    # customer and the order, and the others are indexed only where they are set (most rows are expiries, spends or
    # accruals that name no redemption, user or rule). Every ledger write — a million at a nightly expiry — pays
    # for each index, so none is kept twice or for NULLs.
    # The customer and the source entry are not database foreign keys: migration 0009's triggers check every
    # statement's new rows in one join (the customer through its credit account, which is never deleted and keeps its
    # customer by its own key) and keep the ledger append-only (no row deleted, no id, customer or source re-pointed).
    # That guards what the keys did without a look-up and a row lock per new row: a million at the nightly expiry.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="loyalty_entries", db_index=False, db_constraint=False
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    purpose = models.CharField(_("for"), max_length=20, choices=Purpose.choices)
    amount = money_field(_("amount"))
    balance_after = money_field(_("balance after"))
    remaining = money_field(_("remaining"), default=Decimal("0"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    rule = models.ForeignKey(
        LoyaltyRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    source_entry = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="undone_by",
        db_index=False,
        db_constraint=False,
    )
    redemption = models.ForeignKey(
        "loyalty.Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    # The owner's words for an adjustment (free text, shown as typed); on a reversal, a code (``ALREADY_SPENT``).
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("posted"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="loyalty_entry_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & (Q(remaining=0) | Q(remaining__lte=models.F("amount"))),
                name="loyalty_entry_remaining_within_amount",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="loyalty_entry_amount_not_zero"),
            # Accrued once per order, rule, customer and purpose: a replayed delivery accrues nothing more.
            models.UniqueConstraint(
                fields=["order", "rule", "customer", "purpose"],
                condition=Q(kind="accrual", order__isnull=False),
                name="loyalty_entry_accrual_once",
            ),
            # A review is rewarded once per order, whichever rule paid it.
            models.UniqueConstraint(
                fields=["order"], condition=Q(purpose="review", kind="accrual"), name="loyalty_entry_review_once"
            ),
            models.UniqueConstraint(
                fields=["source_entry"], condition=Q(kind="expiry"), name="loyalty_entry_expires_once"
            ),
            models.UniqueConstraint(
                fields=["source_entry"], condition=Q(kind="reversal"), name="loyalty_entry_reversed_once"
            ),
            models.UniqueConstraint(fields=["redemption"], condition=Q(kind="spend"), name="loyalty_entry_spent_once"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["customer", "created_at"], name="loyalty_entry_customer"),
            # The customer's open lots, first to expire first, for spending and for "what expires when".
            models.Index(
                fields=["customer", "expires_at"], condition=Q(remaining__gt=0), name="loyalty_entry_open_lots"
            ),
            # The nightly expiry reads only open lots that have an expiry date.
            models.Index(
                fields=["expires_at"],
                condition=Q(remaining__gt=0, expires_at__isnull=False),
                name="loyalty_entry_expiring",
            ),
            models.Index(fields=["order"], condition=Q(order__isnull=False), name="loyalty_entry_order"),
            models.Index(fields=["rule"], condition=Q(rule__isnull=False), name="loyalty_entry_rule"),
            models.Index(fields=["redemption"], condition=Q(redemption__isnull=False), name="loyalty_entry_redemption"),
            models.Index(fields=["created_by"], condition=Q(created_by__isnull=False), name="loyalty_entry_created_by"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} → {self.balance_after}"

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language: a reversal's code as its sentence, the owner's words as typed."""
        if self.kind == EntryKind.REVERSAL and (found := _ALREADY_SPENT.fullmatch(self.reason)):
            return _("%(amount)s already spent") % {"amount": found["code"] or found["sentence"]}
        return self.reason
