from celery import shared_task

from shop.audit import audit_prune
from shop.idempotency import idempotency_keys_expire


@shared_task(name="shop.idempotency_keys_expire")
def idempotency_keys_expire_task() -> int:
    return idempotency_keys_expire()


@shared_task(name="shop.audit_prune")
def audit_prune_task() -> int:
    return audit_prune()
