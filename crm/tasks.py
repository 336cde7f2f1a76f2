from celery import shared_task


@shared_task(name="crm.ping", ignore_result=False)
def ping_task(payload: str = "ping") -> dict[str, str]:
    """A round-trip probe: a worker that answers is consuming from the broker."""
    return {"reply": "pong", "payload": payload}
