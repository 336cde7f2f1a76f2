"""Stopping marketing at the customer's request: the one-click unsubscribe of every marketing message."""

from django.db import transaction

from customers.services import customer_set_consent
from messaging.models import Message, Purpose
from messaging.reasons import MessageReason, reason_store
from messaging.services.queueing import messages_cancel

# The consent history's source of a withdrawal made with a message's unsubscribe link.
UNSUBSCRIBE_SOURCE = "unsubscribe link"


def marketing_unsubscribe(*, message_id: int) -> bool:
    """Withdraw the marketing consent of the message's customer on the message's channel (recorded in the consent
    history with the link as its source) and cancel their marketing still waiting on it, in one transaction.

    Idempotent: a second click changes nothing and returns False. Locks nothing beyond the conditional UPDATE of
    the customer's consent; a batch already claimed stops at the send path's consent check."""
    message = Message.objects.filter(pk=message_id).values("customer_id", "channel").first()
    if message is None:
        return False
    with transaction.atomic():
        changed = customer_set_consent(
            customer_id=message["customer_id"], channel=message["channel"], granted=False, source=UNSUBSCRIBE_SOURCE
        )
        messages_cancel(
            customer_ids=[message["customer_id"]],
            reason=reason_store(MessageReason.UNSUBSCRIBED),
            purpose=Purpose.MARKETING,
            channel=message["channel"],
        )
    return changed
