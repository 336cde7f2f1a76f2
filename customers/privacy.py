"""The customers app's part of a person's data requests: the profile, contacts, consent, tags, notes, calls and
merged records in the export, and their erasure, with the locks and the ``erased_at`` stamp the erasure service
takes. Registered from ``CustomersConfig.ready``; ``crm.privacy`` runs them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from customers.contrib import Eraser, Erasure, ExportPart
from customers.models import (
    Call,
    ConsentChannel,
    Customer,
    CustomerEmail,
    CustomerExternalId,
    CustomerMerge,
    CustomerPhone,
    Note,
    UnverifiedContact,
)
from customers.services import customer_set_consent
from customers.unverified import export_part as unverified_export
from shop.locks import advisory_xact_lock

# The ConsentChange source of a withdrawal made by erasure: the consent history shows why marketing stopped.
CONSENT_SOURCE_ERASURE = "erasure"


def _profile(customer: Customer) -> Any:
    return {
        "id": customer.pk,
        "name": customer.name,
        "city": customer.city,
        "address": customer.address,
        "language": customer.language,
        "acquisition_channel": customer.channel,
        "utm_source": customer.utm_source,
        "utm_medium": customer.utm_medium,
        "utm_campaign": customer.utm_campaign,
        "referred_by_customer_id": customer.referred_by_id,
        "orders_count": customer.orders_count,
        "total_spent": customer.total_spent,
        "first_order_at": customer.first_order_at,
        "last_order_at": customer.last_order_at,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "personal_data_erased_at": customer.erased_at,
    }


def _phones(customer: Customer) -> Any:
    rows = CustomerPhone.objects.filter(customer=customer).order_by("-is_primary", "id")
    return [{"number": p.number, "is_primary": p.is_primary, "added_at": p.created_at} for p in rows]


def _emails(customer: Customer) -> Any:
    rows = CustomerEmail.objects.filter(customer=customer).order_by("-is_primary", "id")
    return [{"address": e.address, "is_primary": e.is_primary, "added_at": e.created_at} for e in rows]


def _external_ids(customer: Customer) -> Any:
    rows = CustomerExternalId.objects.filter(customer=customer).order_by("source", "external_id")
    return [{"source": x.source, "external_id": x.external_id, "added_at": x.created_at} for x in rows]


def _consent(customer: Customer) -> Any:
    history = customer.consent_changes.order_by("changed_at", "id")
    return {
        "email": {
            "granted": customer.email_consent,
            "changed_at": customer.email_consent_at,
            "source": customer.email_consent_source,
            "wording": customer.email_consent_wording,
        },
        "sms": {
            "granted": customer.sms_consent,
            "changed_at": customer.sms_consent_at,
            "source": customer.sms_consent_source,
            "wording": customer.sms_consent_wording,
        },
        "history": [
            {
                "channel": c.channel,
                "granted": c.granted,
                "source": c.source,
                "wording": c.wording,
                "changed_at": c.changed_at,
            }
            for c in history
        ],
    }


def _tags(customer: Customer) -> Any:
    return sorted(customer.tags.values_list("name", flat=True))


def _notes(customer: Customer) -> Any:
    # Authors are staff: their identity is the shop's data, not the customer's, so it stays out of the file.
    rows = Note.objects.filter(customer=customer).order_by("created_at", "id")
    return [{"text": n.text, "created_at": n.created_at, "updated_at": n.updated_at} for n in rows]


def _calls(customer: Customer) -> Any:
    rows = Call.objects.filter(customer=customer).order_by("started_at", "id")
    return [
        {
            "phone": c.phone,
            "direction": c.direction,
            "state": c.state,
            "started_at": c.started_at,
            "answered_at": c.answered_at,
            "ended_at": c.ended_at,
            "outcome": c.outcome,
            "note": c.note,
        }
        for c in rows
    ]


def _merges(customer: Customer) -> Any:
    # A duplicate record of the same person was merged into this one: what it held is theirs too.
    rows = CustomerMerge.objects.filter(survivor=customer).order_by("merged_at", "id")
    return [
        {"merged_customer_id": m.merged_customer_id, "merged_at": m.merged_at, "snapshot": m.merged_snapshot}
        for m in rows
    ]


def _erase_profile(erasure: Erasure) -> dict[str, int]:
    # The channel and the UTM source and medium stay: they name where thousands of customers came from and feed
    # LTV by channel. The campaign goes: shops put per-recipient tokens there (mailings, personal links).
    blank = {"name": "", "city": "", "address": "", "language": "", "utm_campaign": ""}
    changed = (
        Customer.objects.filter(pk__in=erasure.customer_ids)
        .filter(~Q(name="") | ~Q(city="") | ~Q(address="") | ~Q(language="") | ~Q(utm_campaign=""))
        .update(**blank, updated_at=erasure.now)
    )
    return {"profiles": changed}


def _erase_contacts(erasure: Erasure) -> dict[str, int]:
    ids = erasure.customer_ids
    phones, _ = CustomerPhone.objects.filter(customer_id__in=ids).delete()
    emails, _ = CustomerEmail.objects.filter(customer_id__in=ids).delete()
    external_ids, _ = CustomerExternalId.objects.filter(customer_id__in=ids).delete()
    unverified, _ = UnverifiedContact.objects.filter(customer_id__in=ids).delete()
    return {"phones": phones, "emails": emails, "external_ids": external_ids, "unverified_contacts": unverified}


def _erase_notes_and_tags(erasure: Erasure) -> dict[str, int]:
    notes, _ = Note.objects.filter(customer_id__in=erasure.customer_ids).delete()
    # Tags are labels a manager typed about the person ("difficult", "pregnant"): as telling as a note.
    tags, _ = Customer.tags.through.objects.filter(customer_id__in=erasure.customer_ids).delete()
    return {"notes": notes, "tags": tags}


def _withdraw_consent(erasure: Erasure) -> dict[str, int]:
    withdrawn = 0
    for customer_id in erasure.customer_ids:
        for channel in (ConsentChannel.EMAIL, ConsentChannel.SMS):
            # The service records a ConsentChange only when consent was granted: a second erasure adds nothing.
            withdrawn += customer_set_consent(
                customer_id=customer_id, channel=channel, granted=False, source=CONSENT_SOURCE_ERASURE
            )
    return {"consents": withdrawn}


def _erase_calls(erasure: Erasure) -> dict[str, int]:
    # A call from one of their numbers before the card existed is not linked to them but carries the number.
    mentions = Q(customer_id__in=erasure.customer_ids)
    if erasure.phones:
        mentions |= Q(phone__in=erasure.phones)
    changed = (
        Call.objects.filter(mentions)
        .filter(~Q(phone="") | ~Q(note=""))
        .update(phone="", note="", updated_at=erasure.now)
    )
    return {"calls": changed}


def _erase_merge_snapshots(erasure: Erasure) -> dict[str, int]:
    changed = (
        CustomerMerge.objects.filter(survivor_id__in=erasure.customer_ids)
        .exclude(merged_snapshot={})
        .update(merged_snapshot={})
    )
    return {"merge_snapshots": changed}


def _family_ids(customer: Customer) -> list[int]:
    """The customer and every record merged into it, at any depth: one person, several rows."""
    found = {customer.pk}
    frontier = [customer.pk]
    while frontier:
        frontier = [
            pk
            for pk in Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
            if pk not in found
        ]
        found.update(frontier)
    return sorted(found)


def customer_erasure_lock(*, customer: Customer) -> Erasure:
    """What an erasure of ``customer`` works on: the person's record and every duplicate merged into it, with the
    contacts they have now.

    Locks, in the global order (docs/architecture.md): advisory locks on every phone, email and external id (the
    names ``customers_resolve`` uses), then the customer rows in id order. Must run inside ``transaction.atomic``;
    the locks are held until the caller commits."""
    ids = _family_ids(customer)
    phones = sorted(CustomerPhone.objects.filter(customer_id__in=ids).values_list("number", flat=True))
    emails = sorted(CustomerEmail.objects.filter(customer_id__in=ids).values_list("address", flat=True))
    external_ids = CustomerExternalId.objects.filter(customer_id__in=ids).values_list("source", "external_id")
    advisory_xact_lock(
        [f"customer-phone:{p}" for p in phones]
        + [f"customer-email:{e}" for e in emails]
        + [f"customer-ext:{s}:{x}" for s, x in external_ids]
    )
    list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    return Erasure(customer_ids=ids, phones=phones, emails=emails, now=timezone.now())


def customers_mark_erased(*, customer: Customer, erasure: Erasure, changed: bool) -> bool:
    """Stamp ``erased_at`` on every record of the erasure when the erasers changed something or ``customer`` was
    never erased; returns whether it did. Runs under :func:`customer_erasure_lock`'s locks."""
    never_erased = Customer.objects.filter(pk=customer.pk, erased_at__isnull=True).exists()
    if not (changed or never_erased):
        return False
    Customer.objects.filter(pk__in=erasure.customer_ids).update(erased_at=erasure.now)
    return True


EXPORT_PARTS = (
    ExportPart("profile", 10, _profile),
    ExportPart("phones", 20, _phones),
    ExportPart("emails", 30, _emails),
    ExportPart("unverified_contacts", 35, unverified_export),
    ExportPart("external_ids", 40, _external_ids),
    ExportPart("consent", 50, _consent),
    ExportPart("tags", 60, _tags),
    ExportPart("notes", 70, _notes),
    ExportPart("calls", 80, _calls),
    ExportPart("merged_records", 110, _merges),
)

# Orders stay as they are: they hold no name, contact or address (those live on the customer), and the shop's
# accounting and tax records need every order and amount.
ERASERS = (
    Eraser("profile", 10, _erase_profile),
    Eraser("contacts", 20, _erase_contacts),
    Eraser("notes_and_tags", 30, _erase_notes_and_tags),
    Eraser("consent", 40, _withdraw_consent),
    Eraser("calls", 50, _erase_calls),
    Eraser("merge_snapshots", 60, _erase_merge_snapshots),
)
