"""Merging a duplicate customer into a survivor. It lives in the orders app because orders move too, and orders
are a higher layer than customers; apps above react to ``customers.signals.customer_merged`` after the commit."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

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
from orders.models import Order
from orders.services import customer_summaries_refresh

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


def customer_merge(*, survivor: Customer, duplicate: Customer, user: Any) -> CustomerMerge:
    """Move everything of ``duplicate`` to ``survivor``: orders, phones, emails, external ids, notes, calls, consent
    history, tags and referrals; fill the survivor's blank fields from the duplicate; mark the duplicate merged.

    Locks both customers in id order (so two merges of the same pair cannot deadlock) and refreshes both summaries
    in the same transaction. Sends ``customer_merged`` on commit. Raises :class:`MergeError`.
    """
    if survivor.pk == duplicate.pk:
        raise MergeError(_("A customer cannot be merged into itself."))
    with transaction.atomic():
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
        moved = {
            "orders": Order.objects.filter(customer=duplicate).update(customer=survivor),
            "phones": CustomerPhone.objects.filter(customer=duplicate).update(customer=survivor, is_primary=False),
            "emails": CustomerEmail.objects.filter(customer=duplicate).update(customer=survivor, is_primary=False),
            "external_ids": CustomerExternalId.objects.filter(customer=duplicate).update(customer=survivor),
            "notes": Note.objects.filter(customer=duplicate).update(customer=survivor),
            "calls": Call.objects.filter(customer=duplicate).update(customer=survivor),
            "consent_changes": ConsentChange.objects.filter(customer=duplicate).update(customer=survivor),
            "referrals": Customer.objects.filter(referred_by=duplicate)
            .exclude(pk=survivor.pk)
            .update(referred_by=survivor),
        }
        tags = list(duplicate.tags.all())
        survivor.tags.add(*tags)
        duplicate.tags.clear()
        moved["tags"] = len(tags)

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
                for suffix in ("consent", "consent_at", "consent_source"):
                    setattr(survivor, f"{prefix}_{suffix}", getattr(duplicate, f"{prefix}_{suffix}"))
        survivor.save()
        duplicate.merged_into = survivor
        duplicate.save(update_fields=["merged_into", "updated_at"])
        record = CustomerMerge.objects.create(
            survivor=survivor,
            merged_customer_id=duplicate.pk,
            merged_snapshot=snapshot,
            moved=moved,
            merged_by=user if getattr(user, "is_authenticated", False) else None,
        )
        customer_summaries_refresh(customer_ids=[survivor.pk, duplicate.pk])
        survivor_id, duplicate_id = survivor.pk, duplicate.pk
        transaction.on_commit(
            lambda: customer_merged.send(sender="orders", customer_id=survivor_id, merged_customer_id=duplicate_id)
        )
    return record
