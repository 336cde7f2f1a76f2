"""Putting messages in the outbox: the one way in, where consent by purpose is enforced for every caller."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from customers.models import Customer
from messaging.kinds import Outcome, kinds_settle
from messaging.models import Channel, Message, MessageState, Purpose
from messaging.reasons import MessageReason, reason_store
from shop.bulk_insert import objects_insert

MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class MessageData:
    """A message to queue. ``kind`` and ``source`` name it once (queuing it again changes nothing); a registered
    kind may render it at sending time from ``context`` instead of ``subject``/``body``/``html``."""

    customer_id: int
    channel: str
    purpose: str
    address: str
    kind: str
    source: str
    due_at: datetime
    language: str = ""
    subject: str = ""
    body: str = ""
    html: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    max_attempts: int = MAX_ATTEMPTS


def quiet_adjusted(moment: datetime, *, zone: ZoneInfo, quiet_from: int, quiet_until: int) -> datetime:
    """Move ``moment`` out of the quiet hours to their end, in the shop's local time."""
    local = moment.astimezone(zone)
    if quiet_from == quiet_until:
        return moment
    hour = local.hour
    in_quiet = (
        (hour >= quiet_from or hour < quiet_until) if quiet_from > quiet_until else quiet_from <= hour < quiet_until
    )
    if not in_quiet:
        return moment
    day = local.date() if hour < quiet_until else local.date() + timedelta(days=1)
    return datetime.combine(day, time(quiet_until), tzinfo=zone)


def customers_over_cap(*, customer_ids: Sequence[int], limit: int, days: int, now: datetime | None = None) -> set[int]:
    """The customers who were queued ``limit`` or more messages (of any kind, surveys included, cancelled ones
    not) in the last ``days``: the per-customer cap, read with one query for a whole batch."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (
        Message.objects.filter(customer_id__in=customer_ids, created_at__gte=since)
        .exclude(state=MessageState.CANCELLED)
        .values("customer_id")
        .annotate(count=Count("id"))
        .filter(count__gte=limit)
    )
    return {row["customer_id"] for row in rows}


def _allowed(items: Sequence[MessageData]) -> list[MessageData]:
    """The items that may be queued: none to an erased customer, and marketing only on a channel whose marketing
    consent the customer has given."""
    consent = {
        pk: (erased_at, email, sms)
        for pk, erased_at, email, sms in Customer.objects.filter(pk__in={item.customer_id for item in items})
        .values_list("pk", "erased_at", "email_consent", "sms_consent")
        .iterator()
    }
    allowed = []
    for item in items:
        erased_at, email, sms = consent.get(item.customer_id, (timezone.now(), False, False))
        if erased_at is not None:
            continue
        if item.purpose == Purpose.MARKETING and not (email if item.channel == Channel.EMAIL else sms):
            continue
        allowed.append(item)
    return allowed


def messages_enqueue(*, items: Sequence[MessageData]) -> dict[tuple[str, str], int]:
    """Queue messages; returns the message id of each queued (or already queued) ``(kind, source)``. Items refused
    — marketing without the channel's consent, anything to an erased customer — are left out of the answer.

    Idempotent through the unique ``(kind, source)``: inserted with ON CONFLICT DO NOTHING, so a retried task adds
    nothing. Takes no locks of its own; the send path checks consent again just before each provider call, so a
    consent withdrawn after queuing still stops the message. Queues no task (the every-minute batch sends it)."""
    allowed = _allowed(items)
    if not allowed:
        return {}
    now = timezone.now()
    rows = [
        Message(
            customer_id=item.customer_id,
            channel=item.channel,
            purpose=item.purpose,
            address=item.address,
            language=item.language,
            kind=item.kind,
            source=item.source,
            subject=item.subject,
            body=item.body,
            html=item.html,
            context=item.context,
            due_at=item.due_at,
            max_attempts=item.max_attempts,
            created_at=now,
        )
        for item in allowed
    ]
    with transaction.atomic():
        objects_insert(rows, ignore_conflicts=True)
        ids: dict[tuple[str, str], int] = {}
        for kind in {item.kind for item in allowed}:
            sources = [item.source for item in allowed if item.kind == kind]
            for start in range(0, len(sources), 1000):
                found = Message.objects.filter(kind=kind, source__in=sources[start : start + 1000])
                ids.update({(kind, source): pk for pk, source in found.values_list("pk", "source")})
    return ids


def messages_cancel(
    *, customer_ids: Sequence[int], reason: str, kinds: Sequence[str] | None = None, **filters: Any
) -> int:
    """Cancel the customers' messages still waiting (of ``kinds`` if given); returns how many. ``reason`` is a
    stored reason (``messaging.reasons.reason_store``), never a sentence. A message already claimed is stopped by
    the send path's own check, not here."""
    waiting = Message.objects.filter(customer_id__in=customer_ids, state=MessageState.DUE, **filters)
    if kinds is not None:
        waiting = waiting.filter(kind__in=kinds)
    error = reason or reason_store(MessageReason.CANCELLED)
    with transaction.atomic():
        rows = list(waiting.select_for_update(skip_locked=True).values_list("pk", "kind"))
        cancelled = Message.objects.filter(pk__in=[pk for pk, _kind in rows]).update(
            state=MessageState.CANCELLED, error=error
        )
        # The apps above hear of it like any outcome (a campaign takes its coupon back).
        recorded: dict[str, list[Outcome]] = {}
        for pk, kind in rows:
            recorded.setdefault(kind, []).append(Outcome(pk, MessageState.CANCELLED, error))
        kinds_settle(recorded, timezone.now())
    return cancelled
