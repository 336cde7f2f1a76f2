"""The messaging app's part of a person's data requests and merges: their messages in the export, their erasure,
and their move to the survivor of a merge. Registered from ``MessagingConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from customers.contrib import Eraser, Erasure, ExportPart
from customers.models import Customer
from messaging.models import Message, MessageState
from messaging.reasons import MessageReason, reason_parse, reason_store, reason_text
from messaging.selectors import messages_of_customer


def _messages(customer: Customer) -> list[dict[str, Any]]:
    return [
        {
            "channel": message.channel,
            "purpose": message.purpose,
            "kind": message.kind,
            "address": message.address,
            "state": message.state,
            "queued_at": message.created_at,
            "sent_at": message.sent_at,
            # Why it did not leave (or left in doubt): the stored code and its words in the reader's language.
            "reason": reason_parse(message.error)[0] or None,
            "reason_text": reason_text(message.error) or None,
        }
        for message in messages_of_customer(customer.pk).order_by("created_at", "id")
    ]


def _erase_messages(erasure: Erasure) -> dict[str, int]:
    # A message still waiting has nowhere to go now; every message's address and text name the person. What was
    # sent when, on which channel and for what purpose stays (the proof that marketing went only with consent).
    ids = erasure.customer_ids
    Message.objects.filter(customer_id__in=ids, state=MessageState.DUE).update(
        state=MessageState.CANCELLED, error=reason_store(MessageReason.ERASED)
    )
    blanked = (
        Message.objects.filter(customer_id__in=ids)
        .filter(~Q(address="") | ~Q(body="") | ~Q(subject="") | ~Q(html="") | ~Q(context={}))
        .update(address="", subject="", body="", html="", context={})
    )
    return {"messages": blanked}


def messages_move(*, from_customer_id: int, to_customer_id: int) -> dict[str, int]:
    """A merge's mover: the duplicate's messages become the survivor's (so the cap and the history count them)."""
    return {"messages": Message.objects.filter(customer_id=from_customer_id).update(customer_id=to_customer_id)}


EXPORT_PARTS = (ExportPart("messages", 250, _messages),)
ERASERS = (Eraser("messages", 250, _erase_messages),)
