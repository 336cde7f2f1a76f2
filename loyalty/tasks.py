"""Thin Celery tasks over loyalty's services; each is safe to run twice (unique keys make repeats no-ops)."""

from celery import shared_task

from loyalty import services


@shared_task(name="loyalty.accrue", acks_late=True)
def loyalty_accrue_task(order_ids: list[int]) -> int:
    return services.loyalty_accrue_for_orders(order_ids=order_ids)


@shared_task(name="loyalty.reverse", acks_late=True)
def loyalty_reverse_task(order_ids: list[int]) -> int:
    return services.loyalty_reverse_for_orders(order_ids=order_ids)


@shared_task(name="loyalty.expire", acks_late=True, time_limit=1800, soft_time_limit=1700)
def credit_expire_due_task() -> int:
    """Nightly: credit past its date expires. Idempotent, so a second run the same night expires nothing."""
    return services.credit_expire_due()
