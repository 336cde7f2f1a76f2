"""Merging a duplicate customer into its survivor: the customers app owns the whole merge.

One service locks both customers, runs every merge mover registered in ``customers.contrib`` (this app's own first:
contacts, notes, calls, consent history, tags and referrals; then orders, feedback, scoring, …) inside one
transaction, records the merge, and only after the commit sends ``customer_merged``, whose receivers only queue
work (rescoring). A mover that fails rolls the whole merge back: nothing is left half-moved.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from customers.contrib import MergeMover, merge_movers
from customers.models import (
    Call,
    Channel,
    ConsentChange,
    Customer,
    CustomerEmail,
    CustomerExternalId,
    CustomerMerge,
    CustomerPhone,
    Note,
)
from customers.signals import customer_merged
from customers.unverified import move_to_survivor
from shop.locks import advisory_xact_lock

SNAPSHOT_FIELDS = (
    "name",
    "city",
    "address",
    "language",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "email_consent",
    "sms_consent",
    "orders_count",
    "total_spent",
    "created_at",
)
# The survivor's fields the merge may fill from the duplicate; saved by name so that a mover's own UPDATE of the
# survivor row (orders refreshing its order summary) is never overwritten by a stale copy.
FILLED_FIELDS = (
    "name",
    "city",
    "address",
    "language",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "created_at",
    "email_consent",
    "email_consent_at",
    "email_consent_source",
    "email_consent_wording",
    "sms_consent",
    "sms_consent_at",
    "sms_consent_source",
    "sms_consent_wording",
    "updated_at",
)


class MergeError(ValueError):
    """A merge that cannot be done; the message says why."""


def _snapshot(customer: Customer) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(customer, name) for name in SNAPSHOT_FIELDS}
    data["total_spent"] = str(data["total_spent"])
    data["created_at"] = data["created_at"].isoformat()
    data["phones"] = list(customer.phones.values_list("number", flat=True))
    data["emails"] = list(customer.emails.values_list("address", flat=True))
    data["external_ids"] = [f"{s}:{x}" for s, x in customer.external_ids.values_list("source", "external_id")]
    return data


def _identity_lock_names(customer_ids: list[int]) -> list[str]:
    """The advisory lock names of the customers' phones, emails and external ids, as ingestion names them."""
    phones = CustomerPhone.objects.filter(customer_id__in=customer_ids).values_list("number", flat=True)
    emails = CustomerEmail.objects.filter(customer_id__in=customer_ids).values_list("address", flat=True)
    external = CustomerExternalId.objects.filter(customer_id__in=customer_ids).values_list("source", "external_id")
    return (
        [f"customer-phone:{p}" for p in phones]
        + [f"customer-email:{e}" for e in emails]
        + [f"customer-ext:{s}:{x}" for s, x in external]
    )


def _fill_blanks(survivor: Customer, duplicate: Customer) -> None:
    for name in ("name", "city", "address", "language"):
        if not getattr(survivor, name):
            setattr(survivor, name, getattr(duplicate, name))
    if survivor.channel == Channel.UNKNOWN and duplicate.channel != Channel.UNKNOWN:
        survivor.channel = duplicate.channel
        survivor.utm_source, survivor.utm_medium, survivor.utm_campaign = (
            duplicate.utm_source,
            duplicate.utm_medium,
            duplicate.utm_campaign,
        )
    # The earlier first touch is the true acquisition date.
    survivor.created_at = min(survivor.created_at, duplicate.created_at)
    for prefix in ("email", "sms"):
        if not getattr(survivor, f"{prefix}_consent") and getattr(duplicate, f"{prefix}_consent"):
            for suffix in ("consent", "consent_at", "consent_source", "consent_wording"):
                setattr(survivor, f"{prefix}_{suffix}", getattr(duplicate, f"{prefix}_{suffix}"))


def customer_records_move(survivor: Customer, duplicate: Customer) -> dict[str, int]:
    """The customers app's mover: contacts (no longer primary), external ids, notes, calls, consent history, tags
    and referrals move to the survivor, whose blank fields and missing consent are filled from the duplicate."""
    moved = {
        "phones": CustomerPhone.objects.filter(customer=duplicate).update(customer=survivor, is_primary=False),
        "emails": CustomerEmail.objects.filter(customer=duplicate).update(customer=survivor, is_primary=False),
        "external_ids": CustomerExternalId.objects.filter(customer=duplicate).update(customer=survivor),
        "notes": Note.objects.filter(customer=duplicate).update(customer=survivor),
        "calls": Call.objects.filter(customer=duplicate).update(customer=survivor),
        "consent_changes": ConsentChange.objects.filter(customer=duplicate).update(customer=survivor),
        "unverified_contacts": move_to_survivor(survivor, duplicate),
        "referrals": Customer.objects.filter(referred_by=duplicate)
        .exclude(pk=survivor.pk)
        .update(referred_by=survivor),
    }
    tags = list(duplicate.tags.all())
    survivor.tags.add(*tags)
    duplicate.tags.clear()
    moved["tags"] = len(tags)
    _fill_blanks(survivor, duplicate)
    survivor.save(update_fields=FILLED_FIELDS)
    return moved


MERGE_MOVERS = (MergeMover("customer_records", 10, customer_records_move),)


def customer_merge(*, survivor: Customer, duplicate: Customer, user: Any) -> CustomerMerge:
    """Merge ``duplicate`` into ``survivor``: run every registered mover, mark the duplicate merged, record what
    moved (``CustomerMerge``). Raises :class:`MergeError` for a merge that cannot be done.

    One transaction: a mover that raises rolls everything back. Locks, in the global order (docs/architecture.md):
    first each mover's own early locks (orders: the duplicate's order rows), then advisory locks on both
    customers' phones, emails and external ids (so an order arriving meanwhile waits and then resolves to the
    survivor), then both customer rows in id order (so two merges of one pair cannot deadlock); movers then run
    in their declared positions. Not idempotent, but a second merge of the same pair is refused (the duplicate is
    merged). Triggers ``customer_merged`` after the commit, whose receivers only queue work.
    """
    if survivor.pk == duplicate.pk:
        raise MergeError(_("A customer cannot be merged into itself."))
    movers = merge_movers()
    with transaction.atomic():
        for mover in movers:
            if mover.lock is not None:
                mover.lock(survivor.pk, duplicate.pk)
        advisory_xact_lock(_identity_lock_names([survivor.pk, duplicate.pk]))
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk]).order_by("pk")
        }
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        if survivor.merged_into_id or duplicate.merged_into_id:
            raise MergeError(_("One of these customers was already merged into another; open the survivor's card."))
        if survivor.erased_at or duplicate.erased_at:
            raise MergeError(_("A customer whose personal data was erased cannot be merged."))
        snapshot = _snapshot(duplicate)
        moved: dict[str, int] = {}
        for mover in movers:
            moved.update(mover.move(survivor, duplicate))
        duplicate.merged_into = survivor
        duplicate.save(update_fields=["merged_into", "updated_at"])
        record = CustomerMerge.objects.create(
            survivor=survivor,
            merged_customer_id=duplicate.pk,
            merged_snapshot=snapshot,
            moved=moved,
            merged_by=user if getattr(user, "is_authenticated", False) else None,
        )
        survivor_id, duplicate_id = survivor.pk, duplicate.pk
        transaction.on_commit(
            lambda: customer_merged.send(sender="customers", customer_id=survivor_id, merged_customer_id=duplicate_id)
        )
    return record
