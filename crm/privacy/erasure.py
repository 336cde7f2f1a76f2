"""The erasure of one customer's personal data, keeping their orders for the shop's accounts.

crm holds no app's eraser: each app that stores something about a person registers its ``Eraser`` in
``customers.contrib``; this service takes the locks, runs every registered eraser in one transaction and writes the
audit line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from customers.contrib import erasers
from customers.privacy import customer_erasure_lock, customers_mark_erased

if TYPE_CHECKING:
    from customers.models import Customer

# The audit line in Django's admin log (LogEntry); it needs no table of our own.
AUDIT_MESSAGE = "personal data erased"


@dataclass(frozen=True)
class ErasureResult:
    customer: Customer
    changed: bool
    counts: dict[str, int] = field(default_factory=dict)


def customer_erase_personal_data(*, customer: Customer, user: Any) -> ErasureResult:
    """Erase what identifies ``customer`` (and the duplicates merged into it) and keep their orders and totals.

    Runs every eraser registered in ``customers.contrib``, in its position (docs/privacy.md says what each app
    erases and keeps); then sets ``erased_at`` and writes a LogEntry.

    Locking (:func:`customers.privacy.customer_erasure_lock`), in the order ingestion takes them so the two cannot
    deadlock: advisory locks on every phone, email and external id (the names ``customers_resolve`` uses), then
    the customer rows in id order. An order arriving at the same moment with one of those contacts either lands
    before (and is kept, its data then erased) or after (and makes a new customer: the old contacts are no longer
    known).

    Idempotent: every write is conditional, so a second erasure of the same data changes nothing and logs
    nothing; one after new data arrived erases that data and moves ``erased_at``.
    """
    with transaction.atomic():
        erasure = customer_erasure_lock(customer=customer)
        counts: dict[str, int] = {}
        for eraser in erasers():
            counts.update(eraser.erase(erasure))
        if customers_mark_erased(customer=customer, erasure=erasure, changed=any(counts.values())):
            customer.refresh_from_db()
            LogEntry.objects.create(
                user_id=user.pk,
                content_type_id=ContentType.objects.get_for_model(type(customer)).pk,
                object_id=str(customer.pk),
                # The display name is already "Customer #id": the audit log keeps no trace of who they were.
                object_repr=str(customer)[:200],
                action_flag=CHANGE,
                change_message=AUDIT_MESSAGE,
            )
            return ErasureResult(customer=customer, changed=True, counts=counts)
    return ErasureResult(customer=customer, changed=False, counts=counts)
