"""A real Celery worker consumes from Redis and answers: the path every background job of Retain takes."""

import os
import subprocess
import sys
import uuid
from collections.abc import Callable

import pytest
from celery._state import _set_task_join_will_block  # type: ignore[attr-defined]  # (not in the stubs)
from django.conf import settings

from crm.tasks import ping_task
from shop.models import ShopSettings
from tests.conftest import WorkerProcess, database_url_of_this_process


@pytest.mark.worker
def test_a_real_worker_answers_a_ping_sent_to_its_queue(celery_worker_process: Callable[..., WorkerProcess]) -> None:
    worker = celery_worker_process(queue=f"ping-{uuid.uuid4().hex[:12]}")

    result = ping_task.apply_async(kwargs={"payload": "hello"}, queue=worker.queue)

    assert result.get(timeout=30) == {"reply": "pong", "payload": "hello"}, worker.log()
    # The answer came from the worker process, not from an eager run inside this one.
    assert f"crm.ping[{result.id}] received" in worker.log()


@pytest.mark.worker
def test_a_worker_test_can_wait_for_its_result_after_threads_left_celerys_join_flag_set(
    celery_worker_process: Callable[..., WorkerProcess],
) -> None:
    # What two threads running eager tasks at once can leave behind (see the fixture): the process-wide flag that
    # makes result.get() refuse, set before the worker fixture starts.
    _set_task_join_will_block(True)
    worker = celery_worker_process(queue=f"ping-{uuid.uuid4().hex[:12]}")

    result = ping_task.apply_async(kwargs={"payload": "again"}, queue=worker.queue)

    assert result.get(timeout=30) == {"reply": "pong", "payload": "again"}, worker.log()


@pytest.mark.django_db(transaction=True)
def test_a_process_given_the_worker_environment_sees_rows_this_test_committed() -> None:
    ShopSettings.objects.update_or_create(pk=1, defaults={"name": "Чайная лавка"})
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DJANGO_ENV": "test",
        "DATABASE_URL": database_url_of_this_process(),
    }
    probe = "from shop.models import ShopSettings; print(ShopSettings.objects.get().name)"

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", probe],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Чайная лавка"
