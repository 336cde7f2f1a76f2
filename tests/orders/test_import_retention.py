"""Uploaded import files are deleted after their retention (IMPORT_FILE_RETENTION_DAYS, 30 by default) by a
nightly task; the job's row and counts stay, an upload never started goes with its job, a running one is left."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from orders.imports.retention import import_files_purge
from orders.models import ImportJob, ImportState
from orders.tasks import import_files_purge_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


def _job(state: str, age_days: float, *, report: bool = False) -> ImportJob:
    job = ImportJob(kind="orders", original_name="o.csv", encoding="utf-8", delimiter=";", state=state, total_rows=1)
    job.file.save("o.csv", ContentFile(b"phone\r\n+79990001122\r\n"), save=False)
    if report:
        job.error_report.save("o-errors.csv", ContentFile(b"line;reason;phone\r\n2;bad;+79990001122\r\n"), save=False)
    job.created_at = timezone.now() - timedelta(days=age_days)
    job.save()
    return job


def test_the_default_retention_is_thirty_days() -> None:
    assert django_settings.IMPORT_FILE_RETENTION_DAYS == 30


def test_a_finished_import_older_than_the_retention_loses_its_files_and_keeps_its_record(tmp_path: Path) -> None:
    old = _job(ImportState.DONE, 31, report=True)
    young = _job(ImportState.DONE, 29)
    paths = [tmp_path / str(old.file.name), tmp_path / str(old.error_report.name)]

    assert import_files_purge() == {"import_files_deleted": 1, "import_uploads_abandoned": 0}

    assert not any(path.exists() for path in paths)
    old.refresh_from_db()
    assert (old.file.name, old.error_report.name, old.total_rows) == ("", "", 1)
    assert (tmp_path / str(young.file.name)).exists()
    assert import_files_purge() == {"import_files_deleted": 0, "import_uploads_abandoned": 0}


def test_an_upload_never_started_goes_with_its_job_and_a_running_import_is_left_alone(tmp_path: Path) -> None:
    abandoned = _job(ImportState.UPLOADED, 40)
    running = _job(ImportState.RUNNING, 40)
    abandoned_path = tmp_path / str(abandoned.file.name)

    assert import_files_purge() == {"import_files_deleted": 0, "import_uploads_abandoned": 1}

    assert not abandoned_path.exists() and not ImportJob.objects.filter(pk=abandoned.pk).exists()
    assert (tmp_path / str(running.file.name)).exists()


def test_the_retention_is_settable(settings: object) -> None:
    settings.IMPORT_FILE_RETENTION_DAYS = 7  # type: ignore[attr-defined]
    _job(ImportState.FAILED, 8)

    assert import_files_purge_task() == {"import_files_deleted": 1, "import_uploads_abandoned": 0}


def test_the_purge_runs_every_night_from_the_beat_schedule() -> None:
    task = PeriodicTask.objects.get(task="orders.import_files_purge")

    assert task.enabled and task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("40", "3", "*")
