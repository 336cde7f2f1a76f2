"""Writes of the messaging app: queuing with consent by purpose (``queueing``), sending at most once
(``sending``, ``delivery``) and the one-click unsubscribe from marketing (``consent``)."""

from messaging.services.consent import UNSUBSCRIBE_SOURCE, marketing_unsubscribe
from messaging.services.queueing import (
    MessageData,
    customers_over_cap,
    messages_cancel,
    messages_enqueue,
    quiet_adjusted,
)
from messaging.services.sending import (
    BATCH_SIZE,
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    may_have_left,
    message_send,
    messages_claim,
    messages_mark_stale_claims,
    messages_send,
    messages_send_batch,
    messages_send_now,
)

__all__ = [
    "BATCH_SIZE",
    "CLAIM_TIMEOUT",
    "MAX_ATTEMPTS",
    "UNSUBSCRIBE_SOURCE",
    "MessageData",
    "customers_over_cap",
    "marketing_unsubscribe",
    "may_have_left",
    "message_send",
    "messages_cancel",
    "messages_claim",
    "messages_enqueue",
    "messages_mark_stale_claims",
    "messages_send",
    "messages_send_batch",
    "messages_send_now",
    "quiet_adjusted",
]
