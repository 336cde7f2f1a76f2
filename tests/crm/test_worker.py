"""A real Celery worker consumes from Redis and answers: the path every background job of Retain takes."""

import uuid
from collections.abc import Callable

import pytest

from crm.tasks import ping_task
from tests.conftest import WorkerProcess


@pytest.mark.worker
def test_a_real_worker_answers_a_ping_sent_to_its_queue(celery_worker_process: Callable[..., WorkerProcess]) -> None:
    worker = celery_worker_process(queue=f"ping-{uuid.uuid4().hex[:12]}")

    result = ping_task.apply_async(kwargs={"payload": "hello"}, queue=worker.queue)

    assert result.get(timeout=30) == {"reply": "pong", "payload": "hello"}, worker.log()
    # The answer came from the worker process, not from an eager run inside this one.
    assert f"crm.ping[{result.id}] received" in worker.log()
