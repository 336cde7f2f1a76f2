"""A manager's edits on the customer card. Each is one service: the view validates a form and calls one of these."""

from typing import Any

from django.db import transaction

from customers.models import Customer, CustomerEmail, CustomerPhone, Note, Tag
from shop.locks import advisory_xact_lock

CONSENT_SOURCE_MANAGER = "manager"


class ContactTakenError(ValueError):
    """A phone or email that already belongs to another customer: numbers and addresses identify one person (the
    caller lookup and order matching depend on it), so the manager is shown the owner instead."""

    def __init__(self, value: str, owner: Customer) -> None:
        super().__init__(value)
        self.value = value
        self.owner = owner


def customer_update(*, customer: Customer, name: str, city: str, address: str, language: str) -> Customer:
    """The card's own fields, as a manager typed them (authoritative: order imports only fill blanks)."""
    customer.name, customer.city, customer.address, customer.language = name.strip(), city.strip(), address, language
    customer.save(update_fields=["name", "city", "address", "language", "updated_at"])
    return customer


def customer_phone_add(*, customer: Customer, number: str) -> CustomerPhone:
    """Attach a phone (E.164, already normalised) to the customer; the first phone becomes the primary one.

    Takes the same advisory lock as order ingestion (``customer-phone:<number>``) so a webhook that brings this
    number at the same moment either sees it attached or attaches it first. Raises ContactTakenError when another
    customer owns the number; idempotent when this customer already has it."""
    with transaction.atomic():
        advisory_xact_lock([f"customer-phone:{number}"])
        existing = CustomerPhone.objects.select_related("customer").filter(number=number).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ContactTakenError(number, existing.customer)
            return existing
        is_first = not CustomerPhone.objects.filter(customer=customer).exists()
        return CustomerPhone.objects.create(customer=customer, number=number, is_primary=is_first)


def customer_phone_remove(*, customer: Customer, phone_id: int) -> None:
    """Detach one of the customer's phones; when it was the primary one, the oldest remaining phone takes over."""
    with transaction.atomic():
        phone = CustomerPhone.objects.select_for_update().filter(customer=customer, pk=phone_id).first()
        if phone is None:
            return
        phone.delete()
        if phone.is_primary:
            successor = CustomerPhone.objects.filter(customer=customer).order_by("id").first()
            if successor is not None:
                CustomerPhone.objects.filter(pk=successor.pk).update(is_primary=True)


def customer_email_add(*, customer: Customer, address: str) -> CustomerEmail:
    """Attach an email (lower-cased already); the same contract as :func:`customer_phone_add`."""
    with transaction.atomic():
        advisory_xact_lock([f"customer-email:{address}"])
        existing = CustomerEmail.objects.select_related("customer").filter(address=address).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ContactTakenError(address, existing.customer)
            return existing
        is_first = not CustomerEmail.objects.filter(customer=customer).exists()
        return CustomerEmail.objects.create(customer=customer, address=address, is_primary=is_first)


def customer_email_remove(*, customer: Customer, email_id: int) -> None:
    with transaction.atomic():
        email = CustomerEmail.objects.select_for_update().filter(customer=customer, pk=email_id).first()
        if email is None:
            return
        email.delete()
        if email.is_primary:
            successor = CustomerEmail.objects.filter(customer=customer).order_by("id").first()
            if successor is not None:
                CustomerEmail.objects.filter(pk=successor.pk).update(is_primary=True)


def customer_tag_add(*, customer: Customer, name: str) -> Tag:
    """Tag the customer, creating the tag when no tag of that name exists (matched case-insensitively, so
    "VIP" and "vip" stay one tag). Idempotent."""
    with transaction.atomic():
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            # Two managers creating the same new tag at once: the unique name lets one insert win.
            tag, _created = Tag.objects.get_or_create(name=name)
        customer.tags.add(tag)
    return tag


def customer_tag_remove(*, customer: Customer, tag_id: int) -> None:
    """Untag the customer; the tag itself stays for the others that carry it."""
    customer.tags.remove(*Tag.objects.filter(pk=tag_id))


def note_add(*, customer: Customer, author: Any, text: str) -> Note:
    return Note.objects.create(
        customer=customer, author=author if getattr(author, "is_authenticated", False) else None, text=text
    )


def note_update(*, note: Note, text: str) -> Note:
    """Change a note's text; its author and time stay, ``updated_at`` shows it was edited."""
    note.text = text
    note.save(update_fields=["text", "updated_at"])
    return note
