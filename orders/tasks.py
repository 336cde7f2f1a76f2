"""Thin tasks of the orders app: each looks its rows up through a service and is harmless when run twice. Services
never import this module: they queue by task name (``shop.queueing``), so the dependency runs one way."""

from celery import shared_task

from orders.events import order_event_dispatch, order_events_sweep
from orders.imports.retention import import_files_purge
from orders.imports.running import csv_import_run, import_jobs_sweep
from orders.webhooks.services import webhook_events_expire


@shared_task(name="orders.webhook_events_expire")
def webhook_events_expire_task() -> int:
    return webhook_events_expire()


@shared_task(name="orders.csv_import", acks_late=True, time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def csv_import_task(job_id: int) -> None:
    csv_import_run(job_id=job_id)


@shared_task(name="orders.csv_imports_sweep")
def csv_imports_sweep_task() -> dict[str, int]:
    return import_jobs_sweep()


@shared_task(name="orders.import_files_purge")
def import_files_purge_task() -> dict[str, int]:
    return import_files_purge()


@shared_task(name="orders.order_event_dispatch", acks_late=True)
def order_event_dispatch_task(event_id: int) -> bool:
    return order_event_dispatch(event_id=event_id)


@shared_task(name="orders.order_events_sweep")
def order_events_sweep_task() -> dict[str, int]:
    return order_events_sweep()
