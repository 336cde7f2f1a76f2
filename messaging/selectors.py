"""Reads of the messaging app, for its pages and the apps above it."""

from typing import Any

from django.db.models import QuerySet

from messaging.models import Message


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
