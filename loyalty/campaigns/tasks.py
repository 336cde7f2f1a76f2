"""Thin Celery tasks over the campaign runner; each is safe to run twice (unique recipients, row locks)."""

from celery import shared_task

from loyalty.campaigns import runner


@shared_task(name="loyalty.campaigns_run", acks_late=True, time_limit=1800, soft_time_limit=1700)
def campaigns_run_due_task() -> dict[str, int]:
    """Every 15 minutes: daily campaigns enter whoever newly qualifies once a day, after-delivery ones whoever had
    an order delivered since their last run; recipients left selected by a stopped run are processed. PostgreSQL
    holds the work, so a lost broker message delays a campaign by one interval and loses nothing."""
    results = runner.campaigns_run_due()
    return {str(pk): result.entered for pk, result in results.items()}


@shared_task(name="loyalty.campaign_run", acks_late=True, time_limit=1800, soft_time_limit=1700)
def campaign_run_task(campaign_id: int) -> int:
    return runner.campaign_run(campaign_id=campaign_id, force=True).entered
