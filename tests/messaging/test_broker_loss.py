"""Redis may lose the message that asks for a batch (a restart without persistence empties its queues): the outbox
in PostgreSQL still holds the work, and the sweep that beat runs sends it, each message once."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from messaging.models import Channel, Message, MessageState
from messaging.tasks import messages_send_batch_task, messages_sweep_task
from tests.factories import CustomerFactory, MessageFactory


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.worker
def test_a_batch_request_lost_by_the_broker_is_made_good_by_the_sweep(
    transactional_db: None, celery_worker_process: Any, tmp_path: Path
) -> None:
    customer = CustomerFactory.create()
    for number in range(5):
        MessageFactory.create(customer=customer, channel=Channel.SMS, address=f"+7999000000{number}")
    sink = tmp_path / "sms.log"
    worker = celery_worker_process(env={"MESSAGING_SMS_FILE": str(sink)})
    # The request for a batch is queued, then lost: the queue's list is gone as after a restart of Redis.
    lost_queue = f"{worker.queue}-lost"
    messages_send_batch_task.apply_async(queue=lost_queue)
    with redis.Redis.from_url(settings.CELERY_BROKER_URL) as client:
        assert client.delete(lost_queue) == 1
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.DUE}

    messages_sweep_task.apply_async(queue=worker.queue)
    _wait_for(lambda: not Message.objects.exclude(state=MessageState.SENT).exists(), 60, "the outbox to drain")
    lines = sink.read_text(encoding="utf-8").splitlines()
    assert sorted(line.split("\t")[0] for line in lines) == sorted(m.client_id for m in Message.objects.all())
