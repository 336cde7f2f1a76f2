"""Webhook sources (the owner's side) and deliveries (the platform's side)."""

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.models import ChangeOrigin, WebhookEvent, WebhookSource
from orders.services import OrderData, UpsertResult, orders_upsert


class ReplayError(Exception):
    """This event id was stored before (by a concurrent delivery of the same event, when raised from
    :func:`webhook_deliver`)."""


def webhook_source_create(*, name: str, slug: str, kind: str) -> WebhookSource:
    return WebhookSource.objects.create(name=name, slug=slug, kind=kind, secret=secrets.token_urlsafe(32))


def webhook_source_rotate(*, source: WebhookSource) -> WebhookSource:
    """A new secret at once: deliveries signed with the old one are refused from now on."""
    source.secret = secrets.token_urlsafe(32)
    source.rotated_at = timezone.now()
    source.save(update_fields=["secret", "rotated_at"])
    return source


def webhook_source_set_active(*, source: WebhookSource, active: bool) -> None:
    WebhookSource.objects.filter(pk=source.pk).update(is_active=active)


def webhook_deliver(
    *,
    source: WebhookSource,
    event_id: str,
    topic: str,
    body_sha256: str,
    orders: list[OrderData],
    render: Callable[[list[UpsertResult]], Any],
) -> Any:
    """Record the event and apply its orders in one transaction, keeping ``render(results)`` as the answer a repeat
    of this event gets. Raises :class:`ReplayError` when the event id is stored already (a concurrent delivery of
    the same event won): nothing of this one is written. The orders' follow-up work is queued after the commit and
    never fails the delivery (``orders.signals``)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    source=source, event_id=event_id, topic=topic, body_sha256=body_sha256
                )
        except IntegrityError as error:
            raise ReplayError(f"Event {event_id} was delivered before.") from error
        answer = render(orders_upsert(items=orders, origin=ChangeOrigin.WEBHOOK))
        WebhookEvent.objects.filter(pk=event.pk).update(response=answer)
    return answer


def webhook_event_stored(*, source: WebhookSource, event_id: str) -> WebhookEvent | None:
    """The stored delivery of this event, if any: its repeat is answered from it."""
    return WebhookEvent.objects.filter(source=source, event_id=event_id).first()


def webhook_events_expire(*, days: int = 30, now: Any = None) -> int:
    """Replays older than the signature tolerance are refused by their timestamp anyway; a month of ids is plenty."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = WebhookEvent.objects.filter(received_at__lt=cutoff).delete()
    return deleted
