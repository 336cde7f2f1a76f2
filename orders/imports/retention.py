"""Uploaded import files do not outlive their use. A CSV from a shop platform holds whole rows of personal data
(names, phones, emails, addresses); once its import finished, its rows live in the database where erasure and the
export reach them, and the file is only a copy. So:

- every file (the upload and its error report) is deleted ``IMPORT_FILE_RETENTION_DAYS`` after the upload, by the
  nightly task; an upload never started by then is deleted with its job;
- while a file is still kept, erasing a customer removes their rows from it (:func:`import_files_erase`), found by
  their phone numbers, email addresses and order numbers.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from customers.contrib import Erasure
from orders.models import ImportJob, ImportKind, ImportState, Order

# Error reports are written by the importer itself (shop.csv_safety.csv_lines): UTF-8 with a BOM, ";" between cells.
REPORT_FORMAT = ("utf-8-sig", ";")
# Cells a spreadsheet-safe export prefixed with an apostrophe (a phone starting with "+") are compared without it.
NEUTRALISED = "'"


def retention() -> timedelta:
    return timedelta(days=settings.IMPORT_FILE_RETENTION_DAYS)


def import_files_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete the files of imports uploaded more than the retention ago, and the jobs never started by then.

    A job still queued or running keeps its file (a long import outlives no retention worth the name, and deleting
    under it would fail the import). The job's row stays with its counts, so the history of imports is intact.
    Idempotent: a second run finds no file left to delete."""
    cutoff = (now or timezone.now()) - retention()
    old = ImportJob.objects.filter(created_at__lt=cutoff)
    abandoned = 0
    for job in old.filter(state=ImportState.UPLOADED).iterator():
        _delete_files(job)
        abandoned += ImportJob.objects.filter(pk=job.pk, state=ImportState.UPLOADED).delete()[0]
    purged = 0
    finished = old.filter(state__in=[ImportState.DONE, ImportState.FAILED]).exclude(Q(file="") & Q(error_report=""))
    for job in finished.iterator():
        _delete_files(job)
        purged += ImportJob.objects.filter(pk=job.pk).update(file="", error_report="")
    return {"import_files_deleted": purged, "import_uploads_abandoned": abandoned}


def _delete_files(job: ImportJob) -> None:
    for field in (job.file, job.error_report):
        if field.name:
            field.storage.delete(field.name)


def import_files_erase(erasure: Erasure) -> dict[str, int]:
    """Remove the erased customers' rows from every import file still kept (uploads and error reports).

    A row is theirs when a cell holds one of their phone numbers (compared by its last ten digits, however it was
    written), one of their email addresses, or, in an orders file, one of their order numbers in the order-number
    column. Each file is rewritten beside itself and swapped in whole, so a reader sees the old file or the new one.
    Runs in the erasure's transaction but cannot roll back with it: a file is only ever made smaller, and a second
    erasure finds nothing more to remove."""
    tails = {_digits(phone)[-10:] for phone in erasure.phones if len(_digits(phone)) >= 10}
    emails = {email.casefold() for email in erasure.emails}
    numbers = set(Order.objects.filter(customer_id__in=erasure.customer_ids).values_list("external_id", flat=True))
    if not (tails or emails or numbers):
        return {"import_file_rows": 0}

    def theirs(cell: str) -> bool:
        value = cell.strip().removeprefix(NEUTRALISED)
        if value.casefold() in emails:
            return True
        digits = _digits(value)
        return 10 <= len(digits) <= 15 and digits[-10:] in tails

    removed = 0
    for job in ImportJob.objects.exclude(Q(file="") & Q(error_report="")).iterator():
        number_column = job.mapping.get("external_id") if job.kind == ImportKind.ORDERS else None
        if job.file:
            column = job.headers.index(number_column) if number_column in job.headers else None
            removed += _rewrite(job.file, job.encoding, job.delimiter, _matcher(theirs, numbers, column))
        if job.error_report:
            # The report's cells are the line, the reason, then the row's own cells.
            column = job.headers.index(number_column) + 2 if number_column in job.headers else None
            removed += _rewrite(job.error_report, *REPORT_FORMAT, _matcher(theirs, numbers, column))
    return {"import_file_rows": removed}


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def _matcher(theirs: Callable[[str], bool], numbers: set[str], column: int | None) -> Callable[[list[str]], bool]:
    def matches(record: list[str]) -> bool:
        if column is not None and column < len(record) and record[column].strip() in numbers:
            return True
        return any(theirs(cell) for cell in record)

    return matches


def _rewrite(field: FieldFile, encoding: str, delimiter: str, matches: Callable[[list[str]], bool]) -> int:
    """Write the file again without the records ``matches`` picks (the header is never one); returns how many went."""
    with field.open("rb") as handle:
        text = handle.read().decode(encoding, errors="surrogateescape")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    kept = records[:1] + [record for record in records[1:] if not matches(record)]
    if len(kept) == len(records):
        return 0
    output = io.StringIO(newline="")
    csv.writer(output, delimiter=delimiter, lineterminator="\r\n").writerows(kept)
    path = field.path
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(descriptor, "wb") as out:
        out.write(output.getvalue().encode(encoding, errors="surrogateescape"))
    os.replace(temporary, path)
    return len(records) - len(kept)
