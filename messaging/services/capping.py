"""The per-customer cap, enforced where a message is about to leave: at claim time, under a lock per customer.

Checking the cap when a message is queued is not enough: two campaigns queue their offers on the same day, each
seeing the other's not yet sent, and both would go. So the claim that turns due rows into "sending" counts, per
customer, the messages already sent, being sent or in doubt within the window (surveys included) and refuses the
marketing rows beyond the owner's cap. Two workers claiming at once could each count the other's rows as still due;
a transaction-scoped advisory lock per customer (taken in customer-id order, so two claims cannot deadlock) makes
the second claim wait until the first has committed its "sending" rows, and then count them."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count

from messaging.kinds import Outcome, kinds_settle
from messaging.models import Message, MessageState, MessagingSettings, Purpose
from messaging.reasons import MessageReason, reason_store

# The advisory lock namespace of "a customer's messages being claimed" (pg_advisory_xact_lock(int, int)).
CAP_LOCK_NAMESPACE = 7301
# What counts towards the cap: messages that left or may have left.
COUNTED_STATES = (MessageState.SENDING, MessageState.SENT, MessageState.UNKNOWN)


def _lock_customers(customer_ids: Sequence[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, c) FROM unnest(%s::int[]) AS c ORDER BY c",
            [CAP_LOCK_NAMESPACE, sorted(customer_ids)],
        )


def messages_over_cap(chosen: Sequence[int], *, now: datetime) -> list[int]:
    """Of the rows being claimed (inside the claim's transaction), the marketing ones beyond the cap: cancelled
    here with the reason, and their kinds told. Service messages are never refused (a survey about an order is not
    advertising) but they count. Locks the claimed rows' customers (advisory, until the claim commits)."""
    rows = list(
        Message.objects.filter(pk__in=chosen)
        .order_by("due_at", "pk")
        .values_list("pk", "customer_id", "purpose", "kind")
    )
    marketing_customers = sorted({customer for _pk, customer, purpose, _kind in rows if purpose == Purpose.MARKETING})
    if not marketing_customers:
        return []
    config = MessagingSettings.load()
    _lock_customers(marketing_customers)
    counts = dict(
        Message.objects.filter(
            customer_id__in=marketing_customers,
            state__in=COUNTED_STATES,
            claimed_at__gte=now - timedelta(days=config.cap_days),
        )
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    for _pk, customer, purpose, _kind in rows:
        if purpose == Purpose.SERVICE:
            counts[customer] = counts.get(customer, 0) + 1
    refused: list[tuple[int, str]] = []
    for pk, customer, purpose, kind in rows:
        if purpose != Purpose.MARKETING:
            continue
        if counts.get(customer, 0) >= config.cap_messages:
            refused.append((pk, kind))
            continue
        counts[customer] = counts.get(customer, 0) + 1
    if refused:
        error = reason_store(MessageReason.CAPPED, n=config.cap_messages, days=config.cap_days)
        Message.objects.filter(pk__in=[pk for pk, _kind in refused]).update(state=MessageState.CANCELLED, error=error)
        recorded: dict[str, list[Outcome]] = {}
        for pk, kind in refused:
            recorded.setdefault(kind, []).append(Outcome(pk, MessageState.CANCELLED, error))
        kinds_settle(recorded, now)
    return [pk for pk, _kind in refused]
