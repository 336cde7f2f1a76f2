"""CSV imports: upload and detect, preview with errors, then queue the import (run in chunks with progress by
:mod:`orders.imports.running`).

Orders are keyed by (source, external id), so importing the same file twice creates nothing new. A row with an error
is skipped (with every other row of its order) and listed by line number in a downloadable report.
"""

import secrets
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.imports.fields import REQUIRED, fields_for
from orders.imports.grouping import check_order, group_orders
from orders.imports.parsing import RowResult, auto_mapping, parse_row
from orders.imports.presets import Preset, detect_preset
from orders.imports.reading import (
    CsvFormatError,
    detect_delimiter,
    detect_encoding,
    open_rows,
    read_headers,
    refuse_binary,
)
from orders.models import ImportJob, ImportKind, ImportState
from shop.models import ShopSettings
from shop.queueing import task_queue_on_commit

MAX_FILE_BYTES = 200 * 1024 * 1024
PREVIEW_ROWS = 20
# The preview reads on to the end of the order it stopped in, but never further than this.
PREVIEW_MAX_ROWS = 200


class CsvImportError(ValueError):
    """A file that cannot be imported at all; the message says why."""


def import_job_create(*, upload: UploadedFile, kind: str, user: Any) -> ImportJob:
    """Store the file under a random name, detect its encoding, separator, platform and columns, and read it
    through once: a file that cannot be read (binary, a quote left open, a line in another encoding, a header
    with no rows) is refused here with its line, and nothing is kept."""
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
    try:
        refuse_binary(head)
    except CsvFormatError as error:
        raise CsvImportError(str(error)) from error
    encoding = detect_encoding(head)
    delimiter = detect_delimiter(head.decode(encoding, errors="ignore"))
    job = ImportJob(kind=kind, original_name=name[:255], encoding=encoding, delimiter=delimiter, created_by=user)
    job.file.save(f"{secrets.token_hex(16)}.csv", upload, save=False)
    try:
        with job.file.open("rb") as handle:
            headers = read_headers(handle, encoding, delimiter)
        with job.file.open("rb") as handle:
            total = sum(1 for _row in open_rows(handle, encoding, delimiter))
    except CsvFormatError as error:
        job.file.delete(save=False)
        raise CsvImportError(str(error)) from error
    if not total:
        job.file.delete(save=False)
        raise CsvImportError(_("The file has a header but no rows below it."))
    job.headers = headers
    job.mapping = auto_mapping(headers, kind)
    job.total_rows = total
    job.save()
    return job


def job_preset(job: ImportJob) -> Preset | None:
    """The platform whose export the file is, recognised from its headers."""
    return detect_preset(job.headers, job.kind)


def missing_fields(job: ImportJob) -> list[str]:
    return [field for field in REQUIRED[job.kind] if field not in job.mapping]


def import_job_set_mapping(*, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    known = set(fields_for(job.kind))
    job.mapping = {target: header for target, header in mapping.items() if target in known and header in job.headers}
    job.save(update_fields=["mapping"])
    return job


def parsed_rows(job: ImportJob, limit: int | None = None) -> Iterator[RowResult]:
    """The file's rows, parsed; a row whose order number appeared on an earlier row is read as that order's next
    item. With a ``limit``, reading stops at the first new order after that many rows. Raises
    :class:`CsvFormatError` where the file stops being readable."""
    shop = ShopSettings.load()
    zone = ZoneInfo(shop.time_zone)
    key_header = job.mapping.get("external_id") if job.kind == ImportKind.ORDERS else None
    seen: set[str] = set()
    with job.file.open("rb") as handle:
        for count, (line, row) in enumerate(open_rows(handle, job.encoding, job.delimiter)):
            key = row.get(key_header, "") if key_header else ""
            continuation = bool(key) and key in seen
            if limit is not None and (count >= PREVIEW_MAX_ROWS or (count >= limit and not continuation)):
                return
            if key:
                seen.add(key)
            yield parse_row(line, row, job.mapping, job.kind, zone, shop.phone_region, continuation)


def checked_orders(rows: Iterable[RowResult]) -> Iterator[list[RowResult]]:
    """The rows grouped into orders, each order checked as a whole (see :func:`check_order`)."""
    currency = ShopSettings.load().currency
    for order in group_orders(rows):
        check_order(order, currency=currency)
        yield order


def import_job_preview(*, job: ImportJob) -> tuple[list[RowResult], str]:
    """The first rows as they will be read, with the reasons of their orders; and why the file stops being
    readable within them, if it does."""
    rows: list[RowResult] = []
    try:
        for row in parsed_rows(job, PREVIEW_ROWS):
            rows.append(row)
    except CsvFormatError as error:
        problem = str(error)
    else:
        problem = ""
    if job.kind == ImportKind.ORDERS:
        rows = sorted((row for order in checked_orders(rows) for row in order), key=lambda row: row.line)
    return rows, problem


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
