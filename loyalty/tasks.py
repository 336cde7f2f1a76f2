"""Thin Celery tasks over loyalty's services; each is safe to run twice (unique keys make repeats no-ops)."""

from celery import shared_task

from loyalty import services

EXPIRY_WORKERS = 2


@shared_task(name="loyalty.accrue", acks_late=True)
def loyalty_accrue_task(order_ids: list[int]) -> int:
    return services.loyalty_accrue_for_orders(order_ids=order_ids)


@shared_task(name="loyalty.reverse", acks_late=True)
def loyalty_reverse_task(order_ids: list[int]) -> int:
    return services.loyalty_reverse_for_orders(order_ids=order_ids)


@shared_task(name="loyalty.expire", acks_late=True, time_limit=1800, soft_time_limit=1700)
def credit_expire_due_task() -> int:
    """Nightly: credit past its date expires, on two connections side by side (the night is quiet). Idempotent,
    so a second run the same night expires nothing."""
    return services.credit_expire_due(workers=EXPIRY_WORKERS)


SWEEP_DAYS = 2


@shared_task(name="loyalty.sweep", acks_late=True, time_limit=1800, soft_time_limit=1700)
def loyalty_sweep_task() -> int:
    """Redis may lose the message a delivery or a return queued: every half hour, the orders delivered, cancelled or
    returned in the last two days are accrued or reversed again (both idempotent, so the repeat changes nothing).
    Reads the ``order_status_changed`` index as a range."""
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import Order, OrderStatus

    since = timezone.now() - timedelta(days=SWEEP_DAYS)
    recent = Order.objects.filter(status_changed_at__gte=since).order_by("pk")
    delivered = list(recent.filter(status=OrderStatus.DELIVERED).values_list("pk", flat=True))
    reversed_ = list(
        recent.filter(status__in=(OrderStatus.CANCELLED, OrderStatus.RETURNED)).values_list("pk", flat=True)
    )
    for start in range(0, len(delivered), 1000):
        services.loyalty_accrue_for_orders(order_ids=delivered[start : start + 1000])
    for start in range(0, len(reversed_), 1000):
        services.loyalty_reverse_for_orders(order_ids=reversed_[start : start + 1000])
    return len(delivered) + len(reversed_)
