from celery import shared_task

from analytics.services import aggregates_refresh


@shared_task(name="analytics.refresh", acks_late=True, time_limit=1800, soft_time_limit=1700)
def aggregates_refresh_task() -> int:
    """Rewrite the monthly aggregates (nightly, and when the owner asks); running twice only rewrites again."""
    return aggregates_refresh().pk
