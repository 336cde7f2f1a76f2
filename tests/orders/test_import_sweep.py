"""Imports judged by their heartbeat: a silent one resumes where it stopped or fails with its reason, a healthy long
one is left alone, and the sweep that decides is scheduled where the owner sees it."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from orders.imports import running
from orders.imports.running import import_jobs_sweep
from orders.imports.services import import_job_create, import_job_start
from orders.models import ImportFailure, ImportJob, ImportState, Order
from shop.roles import Role
from tests.orders.test_csv_import import csv_bytes

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SILENT = ImportJob.STALE_AFTER + timedelta(minutes=1)
BAD_ROW = ["4000", "32.13.2026", "доставлен", "100", "Плохая дата", "89990000400", "", "", "", "", ""]
GOOD_ORDERS = [
    [f"40{n:02}", "01.03.2026", "доставлен", "1000", f"Покупатель {n}", f"8999000{n:04}", "", "", "Плед", "1000", "1"]
    for n in range(1, 6)
]
# The bad line first: the chunk the worker dies after holds it, so the report must still list it after resuming.
ROWS = [BAD_ROW, *GOOD_ORDERS]


class WorkerKilled(BaseException):  # named for what it stands for: a kill -9 of the worker
    """What a killed worker leaves behind: no except clause of ours runs after it."""


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _two_orders_a_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(running, "CHUNK_ORDERS", 2)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def uploaded() -> ImportJob:
    return import_job_create(upload=SimpleUploadedFile("orders.csv", csv_bytes(ROWS)), kind="orders", user=None)


def after_first_chunk(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """The first chunk of the next run commits, then ``then`` happens to its worker (once)."""
    real = running._commit
    done: list[bool] = []

    def commit(*args: Any) -> None:
        real(*args)
        if not done:
            done.append(True)
            then()

    monkeypatch.setattr(running, "_commit", commit)


def before_first_chunk(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """Before the first chunk of the next run commits, ``then`` happens (once)."""
    real = running._commit
    done: list[bool] = []

    def commit(*args: Any) -> None:
        if not done:
            done.append(True)
            then()
        real(*args)

    monkeypatch.setattr(running, "_commit", commit)


def kill() -> None:
    raise WorkerKilled


def started_and_killed(monkeypatch: pytest.MonkeyPatch, capture: Any) -> ImportJob:
    job = uploaded()
    real = running._commit
    after_first_chunk(monkeypatch, kill)
    with pytest.raises(WorkerKilled), capture(execute=True):
        import_job_start(job=job)
    monkeypatch.setattr(running, "_commit", real)
    job.refresh_from_db()
    return job


def test_a_killed_import_is_resumed_where_it_stopped_and_counts_every_order_once(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    job = started_and_killed(monkeypatch, django_capture_on_commit_callbacks)
    assert (job.state, job.processed_rows, job.created_count, job.heartbeat_at) == (ImportState.RUNNING, 3, 2, START)

    clock.shift(SILENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_sweep() == {"requeued": 0, "resumed": 1, "failed": 0}

    job.refresh_from_db()
    assert (job.state, job.resumptions, job.started_at) == (ImportState.DONE, 1, START)
    assert (job.processed_rows, job.created_count, job.updated_count, job.unchanged_count) == (6, 5, 0, 0)
    assert job.skipped_rows == 1 and Order.objects.count() == 5
    report = job.error_report.read().decode("utf-8-sig").splitlines()
    assert [line.split(";")[0] for line in report[1:]] == ["2"]  # the bad line the dead worker had skipped


def test_a_worker_thought_dead_stops_without_writing_once_its_import_is_resumed(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    job = uploaded()

    def judged_dead_while_still_working() -> None:
        clock.shift(SILENT)
        import_jobs_sweep()

    before_first_chunk(monkeypatch, judged_dead_while_still_working)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job=job)

    job.refresh_from_db()
    assert (job.state, job.resumptions, job.created_count, job.unchanged_count) == (ImportState.DONE, 1, 5, 0)
    assert Order.objects.count() == 5


def test_an_import_silent_after_too_many_resumptions_fails_with_its_reason_on_the_imports_page(
    clock: time_machine.Traveller, client_for: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    job = uploaded()
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.RUNNING,
        started_at=START,
        heartbeat_at=START,
        resumptions=ImportJob.MAX_RESUMPTIONS,
        processed_rows=3,
    )
    clock.shift(SILENT)
    with django_capture_on_commit_callbacks() as queued:
        assert import_jobs_sweep() == {"requeued": 0, "resumed": 0, "failed": 1}

    job.refresh_from_db()
    assert (job.state, job.failure, job.finished_at, queued) == (
        ImportState.FAILED,
        ImportFailure.STALLED,
        START + SILENT,
        [],
    )
    manager = client_for(Role.MANAGER)
    manager.post(reverse("shop:language"), {"language": "en", "next": "/"})
    reason = (
        "The import stopped making progress: no sign of life for 10 minutes, after it had already been resumed "
        "3 times. It was stopped after 3 of 6 rows;"
    )
    assert reason in manager.get(reverse("imports:list")).content.decode()
    assert manager.get(reverse("imports:progress", args=[job.pk])).json()["error"].startswith(reason)
    manager.post(reverse("shop:language"), {"language": "ru", "next": "/"})
    assert "Импорт перестал продвигаться" in manager.get(reverse("imports:list")).content.decode()


def test_a_long_import_with_a_fresh_heartbeat_is_left_alone(
    clock: time_machine.Traveller, django_capture_on_commit_callbacks: Any
) -> None:
    job = uploaded()
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.RUNNING, started_at=START - timedelta(hours=5), heartbeat_at=START - timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks() as queued:
        assert import_jobs_sweep() == {"requeued": 0, "resumed": 0, "failed": 0}

    job.refresh_from_db()
    assert (job.state, job.resumptions, job.heartbeat_at, queued) == (
        ImportState.RUNNING,
        0,
        START - timedelta(minutes=1),
        [],
    )


def test_sweeping_twice_resumes_a_silent_import_once(
    clock: time_machine.Traveller, django_capture_on_commit_callbacks: Any
) -> None:
    job = uploaded()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.RUNNING, started_at=START, heartbeat_at=START)
    clock.shift(SILENT)
    with django_capture_on_commit_callbacks() as queued:
        first = import_jobs_sweep()
        second = import_jobs_sweep()

    job.refresh_from_db()
    assert (first["resumed"], second["resumed"], len(queued)) == (1, 0, 1)
    assert (job.state, job.resumptions, job.heartbeat_at) == (ImportState.QUEUED, 1, START + SILENT)


def test_a_queued_import_whose_message_was_lost_is_sent_again_without_counting_a_resumption(
    clock: time_machine.Traveller, django_capture_on_commit_callbacks: Any
) -> None:
    job = uploaded()
    with django_capture_on_commit_callbacks():  # the message is lost: nothing runs it
        import_job_start(job=job)
    clock.shift(SILENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_sweep() == {"requeued": 1, "resumed": 0, "failed": 0}

    job.refresh_from_db()
    assert (job.state, job.resumptions, job.created_count) == (ImportState.DONE, 0, 5)


def test_the_sweep_runs_every_five_minutes_and_is_named_in_the_readers_language(client_for: Any) -> None:
    task = PeriodicTask.objects.get(task="orders.csv_imports_sweep")
    assert task.enabled and (task.interval.every, task.interval.period) == (5, "minutes")
    assert task.name == "Resume imports that stopped making progress, fail those that keep stopping"
    owner = client_for(Role.OWNER)
    owner.post(reverse("shop:language"), {"language": "ru", "next": "/"})
    assert "Возобновление остановившихся импортов" in owner.get(reverse("schedules")).content.decode()
    owner.post(reverse("shop:language"), {"language": "en", "next": "/"})
    assert task.name in owner.get(reverse("schedules")).content.decode()
