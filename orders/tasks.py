from celery import shared_task

from orders.webhooks.services import webhook_events_expire


@shared_task(name="orders.webhook_events_expire")
def webhook_events_expire_task() -> int:
    return webhook_events_expire()
