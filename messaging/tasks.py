"""Thin Celery tasks over messaging.services; each is safe to run twice."""

from celery import Task, shared_task

from messaging import services


@shared_task(bind=True, name="messaging.send_batch", acks_late=True, time_limit=600, soft_time_limit=540)
def messages_send_batch_task(self: Task, limit: int = services.BATCH_SIZE) -> int:  # type: ignore[type-arg]
    """Send one batch of due messages; re-queues itself while the batch was full, so a backlog drains.

    The next batch goes to the queue this one came from, so a worker pinned to a queue drains its own backlog."""
    count = services.messages_send_batch(limit=limit)
    if count == limit:
        queue = (self.request.delivery_info or {}).get("routing_key")
        if queue:
            messages_send_batch_task.apply_async((limit,), queue=queue)
        else:
            messages_send_batch_task.delay(limit)
    return count


@shared_task(bind=True, name="messaging.sweep")
def messages_sweep_task(self: Task) -> int:  # type: ignore[type-arg]
    """The outbox guarantee: dead workers' claims are settled and a batch is queued (to the sweep's own queue), so a
    message lost by the broker waits at most one sweep interval (PostgreSQL, not Redis, holds the work)."""
    unknown = services.messages_mark_stale_claims()
    queue = (self.request.delivery_info or {}).get("routing_key")
    if queue:
        messages_send_batch_task.apply_async(queue=queue)
    else:
        messages_send_batch_task.delay()
    return unknown
