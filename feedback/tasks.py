"""Thin Celery tasks over feedback.services; each is safe to run twice."""

from datetime import timedelta

from celery import Task, shared_task
from django.utils import timezone

from feedback import services
from orders.models import Order, OrderStatus

SWEEP_DAYS = 7


@shared_task(name="feedback.schedule", acks_late=True)
def invitations_schedule_task(order_ids: list[int]) -> int:
    return services.invitations_schedule(order_ids=order_ids)


@shared_task(bind=True, name="feedback.send_batch", acks_late=True, time_limit=600, soft_time_limit=540)
def invitations_send_batch_task(self: Task, limit: int = services.BATCH_SIZE) -> int:  # type: ignore[type-arg]
    """Send one batch of due invitations; re-queues itself while the batch was full, so a backlog drains.

    The next batch goes to the queue this one came from, so a worker pinned to a queue drains its own backlog."""
    count = services.invitations_send_batch(limit=limit)
    if count == limit:
        queue = (self.request.delivery_info or {}).get("routing_key")
        if queue:
            invitations_send_batch_task.apply_async((limit,), queue=queue)
        else:
            invitations_send_batch_task.delay(limit)
    return count


@shared_task(name="feedback.sweep")
def invitations_sweep_task() -> int:
    """The outbox guarantee: delivered orders of the last days with neither an invitation nor a recorded skip get
    scheduled here even if the message from orders_delivered was lost; dead workers' claims are settled."""
    services.invitations_mark_stale_claims()
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
    invitations_send_batch_task.delay()
    return len(ids)
