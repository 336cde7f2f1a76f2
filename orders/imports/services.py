"""CSV imports: upload and detect, preview with errors, then queue the import (run in chunks with progress by
:mod:`orders.imports.running`).

Orders are keyed by (source, external id), so importing the same file twice creates nothing new. A row with an error
is skipped (with every other row of its order) and listed by line number in a downloadable report.
"""

import secrets
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.imports.parsing import (
    REQUIRED,
    RowResult,
    auto_mapping,
    detect_delimiter,
    detect_encoding,
    fields_for,
    open_rows,
    parse_row,
)
from orders.models import ImportJob, ImportKind, ImportState
from shop.models import ShopSettings
from shop.queueing import task_queue_on_commit

MAX_FILE_BYTES = 200 * 1024 * 1024
PREVIEW_ROWS = 20


class CsvImportError(ValueError):
    """A file that cannot be imported at all; the message says why."""


def import_job_create(*, upload: UploadedFile, kind: str, user: Any) -> ImportJob:
    """Store the file under a random name, detect its encoding, separator and columns."""
    name = upload.name or "import.csv"
    if not name.lower().endswith((".csv", ".txt")):
        raise CsvImportError(_("Only .csv and .txt files can be imported."))
    if (upload.size or 0) > MAX_FILE_BYTES:
        raise CsvImportError(_("The file is larger than 200 MB; split it into parts."))
    if kind not in ImportKind.values:
        raise CsvImportError(_("Unknown import kind."))
    head = upload.read(64 * 1024)
    upload.seek(0)
    if not head.strip():
        raise CsvImportError(_("The file is empty."))
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="ignore")
    delimiter = detect_delimiter(text)
    job = ImportJob(kind=kind, original_name=name[:255], encoding=encoding, delimiter=delimiter, created_by=user)
    job.file.save(f"{secrets.token_hex(16)}.csv", upload, save=False)
    with job.file.open("rb") as handle:
        rows = open_rows(handle, encoding, delimiter)
        first = next(rows, None)
        headers = list(first[1]) if first else []
        total = (1 if first else 0) + sum(1 for _ in rows)
    job.headers = headers
    job.mapping = auto_mapping(headers, kind)
    job.total_rows = total
    job.save()
    return job


def missing_fields(job: ImportJob) -> list[str]:
    return [field for field in REQUIRED[job.kind] if field not in job.mapping]


def import_job_set_mapping(*, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    known = set(fields_for(job.kind))
    job.mapping = {target: header for target, header in mapping.items() if target in known and header in job.headers}
    job.save(update_fields=["mapping"])
    return job


def parsed_rows(job: ImportJob, limit: int | None = None) -> Iterable[RowResult]:
    shop = ShopSettings.load()
    zone = ZoneInfo(shop.time_zone)
    with job.file.open("rb") as handle:
        for count, (line, row) in enumerate(open_rows(handle, job.encoding, job.delimiter)):
            if limit is not None and count >= limit:
                return
            yield parse_row(line, row, job.mapping, job.kind, zone, shop.phone_region)


def import_job_preview(*, job: ImportJob) -> list[RowResult]:
    return list(parsed_rows(job, PREVIEW_ROWS))


def import_job_start(*, job: ImportJob) -> bool:
    """Queue the import; a job can be started once (conditional UPDATE), and the task is sent after commit (a lost
    message is sent again by the sweep, which counts the wait from ``heartbeat_at``)."""
    if missing_fields(job):
        return False
    started = ImportJob.objects.filter(pk=job.pk, state=ImportState.UPLOADED).update(
        state=ImportState.QUEUED, heartbeat_at=timezone.now()
    )
    if started:
        task_queue_on_commit("orders.csv_import", job.pk)
    return bool(started)


def elapsed(job: ImportJob) -> float:
    end = job.finished_at or timezone.now()
    return (end - job.started_at).total_seconds() if job.started_at else 0.0
