"""Thin Celery tasks over feedback.services; each is safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from feedback import services
from orders.models import Order, OrderStatus

SWEEP_DAYS = 7


@shared_task(name="feedback.schedule", acks_late=True)
def invitations_schedule_task(order_ids: list[int]) -> int:
    return services.invitations_schedule(order_ids=order_ids)


@shared_task(name="feedback.sweep")
def invitations_sweep_task() -> int:
    """The outbox guarantee: delivered orders of the last days with neither an invitation nor a recorded skip get
    scheduled here even if the message from orders_delivered was lost; due reminders are sent. (Dead workers'
    claims are settled by messaging's own sweep.)"""
    since = timezone.now() - timedelta(days=SWEEP_DAYS)
    # Left joins on the one-to-one keys: an anti-join on their unique indexes. (NOT IN over millions of invitation
    # rows would not fit in work_mem and turn into a per-order scan of the subquery.)
    missing = Order.objects.filter(
        status=OrderStatus.DELIVERED,
        status_changed_at__gte=since,
        feedback_invitation__isnull=True,
        feedback_skip__isnull=True,
    ).values_list("id", flat=True)
    ids = list(missing[:5000])
    for start in range(0, len(ids), 1000):
        services.invitations_schedule(order_ids=ids[start : start + 1000])
    services.reminders_send()
    return len(ids)
