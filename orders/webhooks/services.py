"""Webhook sources (the owner's side) and deliveries (the platform's side)."""

import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.models import ChangeOrigin, WebhookEvent, WebhookSource
from orders.services import OrderData, UpsertResult, orders_upsert


class ReplayError(Exception):
    """This event id was delivered before."""


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


def webhook_deliver(*, source: WebhookSource, event_id: str, topic: str, orders: list[OrderData]) -> list[UpsertResult]:
    """Record the event and apply its orders in one transaction: a replay (the unique event id) or a failure stores
    nothing at all."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(source=source, event_id=event_id, topic=topic)
        except IntegrityError as error:
            raise ReplayError(f"Event {event_id} was delivered before.") from error
        return orders_upsert(items=orders, origin=ChangeOrigin.WEBHOOK)


def webhook_events_expire(*, days: int = 30, now: Any = None) -> int:
    """Replays older than the signature tolerance are refused by their timestamp anyway; a month of ids is plenty."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = WebhookEvent.objects.filter(received_at__lt=cutoff).delete()
    return deleted
