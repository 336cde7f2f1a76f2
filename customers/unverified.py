"""Contacts a source sent that could not be read, kept aside on the customer (``UnverifiedContact``): written by
order ingestion, shown on the card, fixed there into a real phone or email, or discarded.

An order is the record of a sale: refusing it because its shipping phone reads ``555-555-SHIP`` would only have the
platform retry it for hours and drop it. So the order is stored and the raw value waits here for a person."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.urls import reverse

from customers.forms import EmailAddForm, PhoneAddForm
from customers.models import ContactKind, Customer, UnverifiedContact
from customers.services import customer_email_add, customer_phone_add
from shop.permissions import user_can
from shop.roles import Capability

# (kind, the value as received, why it was not accepted): how a serializer or parser hands one over.
Unreadable = tuple[str, str, str]


def unverified_contacts_keep(*, entries: Iterable[tuple[int, str, Sequence[Unreadable]]]) -> int:
    """Keep each ``(customer_id, source, contacts)`` entry's unreadable contacts on that customer; the same raw
    value twice is kept once (a unique constraint, so re-deliveries and concurrent batches add nothing). Runs in the
    caller's transaction; returns how many rows were offered."""
    rows = [
        UnverifiedContact(customer_id=customer_id, kind=kind, raw=raw[:254], reason=reason[:255], source=source[:60])
        for customer_id, source, contacts in entries
        for kind, raw, reason in contacts
    ]
    UnverifiedContact.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def unverified_contact_fix(*, customer: Customer, contact: UnverifiedContact, value: str) -> None:
    """Attach the corrected ``value`` (already normalised by the card's form) as a phone or email of ``customer`` and
    drop the unverified row, in one transaction. Raises ``ContactTakenError`` when another customer owns it."""
    with transaction.atomic():
        if contact.kind == ContactKind.PHONE:
            customer_phone_add(customer=customer, number=value)
        else:
            customer_email_add(customer=customer, address=value)
        UnverifiedContact.objects.filter(pk=contact.pk, customer=customer).delete()


def unverified_contact_discard(*, customer: Customer, contact_id: int) -> None:
    """Forget an unverified contact a person judged useless; idempotent."""
    UnverifiedContact.objects.filter(pk=contact_id, customer=customer).delete()


def unverified_contact_for_customer(customer: Customer, contact_id: int) -> UnverifiedContact | None:
    return UnverifiedContact.objects.filter(customer=customer, pk=contact_id).first()


def fix_form_class(contact: UnverifiedContact) -> type[PhoneAddForm] | type[EmailAddForm]:
    return PhoneAddForm if contact.kind == ContactKind.PHONE else EmailAddForm


def card_panel(customer: Customer, user: Any) -> dict[str, Any]:
    """The card's panel: each unverified value with its reason, and a form to fix it, pre-filled with what came.
    Only for those who edit contacts: an operator's card shows what the call needs, and this is not it."""
    if not user_can(user, Capability.BROWSE):
        return {"rows": []}
    contacts = list(UnverifiedContact.objects.filter(customer=customer).order_by("created_at", "id")[:20])
    rows = []
    for contact in contacts:
        form_class = fix_form_class(contact)
        field = "number" if form_class is PhoneAddForm else "address"
        form = form_class(
            action=reverse("customers:unverified_fix", kwargs={"pk": customer.pk, "contact_id": contact.pk}),
            initial={field: contact.raw},
        )
        rows.append({"contact": contact, "form": form})
    return {"rows": rows}


def export_part(customer: Customer) -> Any:
    rows = UnverifiedContact.objects.filter(customer=customer).order_by("created_at", "id")
    return [
        {"kind": c.kind, "as_received": c.raw, "reason": c.reason, "source": c.source, "received_at": c.created_at}
        for c in rows
    ]


def move_to_survivor(survivor: Customer, duplicate: Customer) -> int:
    """A merge's part: the duplicate's unverified contacts go to the survivor, except values it already holds."""
    held = UnverifiedContact.objects.filter(customer=survivor).values_list("kind", "raw")
    duplicates = UnverifiedContact.objects.filter(customer=duplicate)
    for kind, raw in held:
        duplicates = duplicates.exclude(kind=kind, raw=raw)
    moved = duplicates.update(customer=survivor)
    UnverifiedContact.objects.filter(customer=duplicate).delete()
    return moved
