"""Reads of the messaging app, for its pages and the apps above it."""

from typing import Any

from django.db.models import QuerySet

from messaging.models import Message, MessagingSettings


def messaging_settings() -> MessagingSettings:
    """The owner's quiet hours and cap (the one row, made on first read)."""
    return MessagingSettings.load()


def message_for_unsubscribe(message_id: int) -> dict[str, Any] | None:
    """The channel, purpose and language of the message an unsubscribe link names, or None."""
    row = Message.objects.filter(pk=message_id).values("channel", "purpose", "language", "customer_id").first()
    return dict(row) if row is not None else None


def messages_of_customer(customer_id: int, *, limit: int | None = None) -> QuerySet[Message]:
    """A customer's messages, newest first."""
    rows = Message.objects.filter(customer_id=customer_id).order_by("-created_at", "-id")
    return rows[:limit] if limit is not None else rows


def message_states(ids: list[int]) -> dict[int, str]:
    return dict(Message.objects.filter(pk__in=ids).values_list("pk", "state"))


def contact_addresses(customer_ids: list[int]) -> dict[int, tuple[str | None, str | None]]:
    """Each customer's first email and first phone (primary first, then the oldest), two queries for a batch."""
    from customers.models import CustomerEmail, CustomerPhone

    emails: dict[int, str] = {}
    for customer_id, address in (
        CustomerEmail.objects.filter(customer_id__in=customer_ids)
        .exclude(address="")
        .values_list("customer_id", "address")
    ):
        emails.setdefault(customer_id, address)
    phones: dict[int, str] = {}
    for customer_id, number in (
        CustomerPhone.objects.filter(customer_id__in=customer_ids)
        .exclude(number="")
        .values_list("customer_id", "number")
    ):
        phones.setdefault(customer_id, number)
    return {pk: (emails.get(pk), phones.get(pk)) for pk in customer_ids}
