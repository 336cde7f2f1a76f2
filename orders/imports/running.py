"""Running an import: in chunks, with a heartbeat, resumable where it stopped; and the sweep that resumes or fails
the imports whose worker went silent.

Each chunk's rows land in one transaction together with the job's progress and heartbeat, so after a worker dies
the job knows exactly which rows are in: a resumed run reads the file again (for the report of skipped lines) and
stores only what follows. The import is idempotent by ``(source, external_id)`` anyway; committing progress with
the rows is what keeps the created / updated / unchanged counts right across a resumption.
"""

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.services import CustomerData, customers_upsert
from orders.imports.grouping import order_from_rows
from orders.imports.parsing import RowResult
from orders.imports.reading import CsvFormatError
from orders.imports.services import checked_orders, parsed_rows
from orders.models import ChangeOrigin, ImportFailure, ImportJob, ImportKind, ImportState
from orders.services import OrderData, orders_upsert
from shop.csv_safety import csv_lines
from shop.queueing import task_queue_on_commit

CHUNK_ORDERS = 2000
CSV_SOURCE = "csv"
# Reading a big file before its first chunk takes minutes: the job shows it is alive at least this often.
BEAT_EVERY = timedelta(seconds=30)
SWEEP_BATCH = 100


class ImportJobLost(Exception):
    """The job is no longer this worker's: the sweep resumed it elsewhere or failed it."""


class _Heartbeat:
    """The running worker's hold on its job. Every write goes through :meth:`fenced`, which matches only while the
    job is still running under the attempt this worker claimed; once the sweep has resumed or failed the job, a
    worker that was only slow finds nothing to write and stops instead of doubling the counts."""

    def __init__(self, job: ImportJob) -> None:
        self.job_id = job.pk
        self.attempt = job.resumptions
        self.last = timezone.now()

    def fenced(self) -> QuerySet[ImportJob]:
        return ImportJob.objects.filter(pk=self.job_id, state=ImportState.RUNNING, resumptions=self.attempt)

    def update(self, **values: Any) -> None:
        """Write the job's progress with a fresh heartbeat, or raise :class:`ImportJobLost`."""
        self.last = timezone.now()
        if not self.fenced().update(heartbeat_at=self.last, **values):
            raise ImportJobLost

    def beat(self) -> None:
        """Between chunks: a sign of life at most every :data:`BEAT_EVERY`."""
        if timezone.now() - self.last >= BEAT_EVERY:
            self.update()


@dataclass(frozen=True)
class _Unit:
    """What lands or is skipped as a whole: one order with all its lines, or one customer's line."""

    rows: int
    data: OrderData | CustomerData | None  # None: skipped, the lines are in ``report``
    report: list[list[Any]] = field(default_factory=list)


@dataclass
class _Chunk:
    rows: int = 0
    skipped: int = 0
    items: list[Any] = field(default_factory=list)

    def add(self, unit: _Unit) -> None:
        self.rows += unit.rows
        if unit.data is None:
            self.skipped += unit.rows
        else:
            self.items.append(unit.data)


Upsert = Callable[[ImportJob, list[Any]], Sequence[Any]]
Units = Callable[[ImportJob, _Heartbeat], Iterator[_Unit]]


def csv_import_run(*, job_id: int) -> None:
    """Run a queued import, or resume one the sweep queued again. Claimed with a conditional UPDATE (queued →
    running), so a repeated task message does nothing; each chunk of 2,000 orders commits with the job's progress
    and heartbeat; a run that finds the job taken from it (see :class:`_Heartbeat`) stops without writing."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportState.QUEUED).update(
        state=ImportState.RUNNING,
        started_at=Coalesce(F("started_at"), Value(now, output_field=DateTimeField())),
        heartbeat_at=now,
        error="",
        failure="",
    )
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)
    heartbeat = _Heartbeat(job)
    try:
        report = _import(job, heartbeat)
    except ImportJobLost:
        return
    except CsvFormatError as error:
        # The file changed under us or was never read through: its own fault, said on the page, not a crash.
        heartbeat.fenced().update(
            state=ImportState.FAILED, failure=ImportFailure.ERROR, error=str(error), finished_at=timezone.now()
        )
        return
    except Exception as error:
        heartbeat.fenced().update(
            state=ImportState.FAILED, failure=ImportFailure.ERROR, error=str(error), finished_at=timezone.now()
        )
        raise
    if report:
        content = "".join(csv_lines([[_("line"), _("reason"), *job.headers], *report]))
        job.error_report.save(f"{secrets.token_hex(16)}-errors.csv", ContentFile(content.encode("utf-8")), save=False)
    heartbeat.fenced().update(
        state=ImportState.DONE,
        finished_at=timezone.now(),
        error_report=job.error_report.name or "",
        processed_rows=F("total_rows"),
    )


def _import(job: ImportJob, heartbeat: _Heartbeat) -> list[list[Any]]:
    """Store the units after the rows an earlier attempt committed, a chunk at a time; returns every skipped line
    of the file (those of the earlier attempts too) for the report."""
    units, upsert = _KINDS[ImportKind(job.kind)]
    committed = job.processed_rows
    report: list[list[Any]] = []
    read = 0
    chunk = _Chunk()
    for unit in units(job, heartbeat):
        report += unit.report
        read += unit.rows
        if read <= committed:
            continue  # chunks end between units, so a unit is either wholly in or wholly to do
        chunk.add(unit)
        if len(chunk.items) >= CHUNK_ORDERS:
            _commit(job, chunk, upsert, heartbeat)
            chunk = _Chunk()
    _commit(job, chunk, upsert, heartbeat)
    return report


def _commit(job: ImportJob, chunk: _Chunk, upsert: Upsert, heartbeat: _Heartbeat) -> None:
    """The chunk's rows and the job's progress in one transaction: both land, or neither."""
    with transaction.atomic():
        created, updated, unchanged = _tally(upsert(job, chunk.items) if chunk.items else [])
        heartbeat.update(
            processed_rows=F("processed_rows") + chunk.rows,
            created_count=F("created_count") + created,
            updated_count=F("updated_count") + updated,
            unchanged_count=F("unchanged_count") + unchanged,
            skipped_rows=F("skipped_rows") + chunk.skipped,
        )


def _tally(results: Sequence[Any]) -> tuple[int, int, int]:
    """(created, updated, unchanged) of an upsert's results, orders' or customers'."""
    created = updated = 0
    for result in results:
        if getattr(result, "created", False):
            created += 1
        elif getattr(result, "status_changed", False) or getattr(result, "changed", False):
            updated += 1
    return created, updated, len(results) - created - updated


def _upsert_orders(job: ImportJob, items: list[Any]) -> Sequence[Any]:
    return orders_upsert(items=items, origin=ChangeOrigin.CSV, user=job.created_by)


def _upsert_customers(job: ImportJob, items: list[Any]) -> Sequence[Any]:
    return customers_upsert(items=items)


def _report_line(job: ImportJob, row: RowResult, reasons: list[str]) -> list[Any]:
    """A skipped line for the report: its number, why, and the row as the file had it."""
    return [row.line, "; ".join(reasons), *(row.raw.get(header, "") for header in job.headers)]


def _beating(rows: Iterator[RowResult], heartbeat: _Heartbeat) -> Iterator[RowResult]:
    for row in rows:
        heartbeat.beat()
        yield row


def _order_units(job: ImportJob, heartbeat: _Heartbeat) -> Iterator[_Unit]:
    """Group the rows into orders (one row per order, or one per item with the order number repeated). An order
    with any bad row, rows that disagree or items that do not add up is skipped whole, so it never lands with
    half its items."""
    for rows in checked_orders(_beating(parsed_rows(job), heartbeat)):
        if any(row.errors for row in rows):
            reasons = [row.errors or [_("another line of this order has an error")] for row in rows]
            report = [_report_line(job, row, r) for row, r in zip(rows, reasons, strict=True)]
            yield _Unit(len(rows), None, report)
        else:
            yield _Unit(len(rows), order_from_rows(rows, CSV_SOURCE))


def _customer_units(job: ImportJob, heartbeat: _Heartbeat) -> Iterator[_Unit]:
    for parsed in _beating(parsed_rows(job), heartbeat):
        if parsed.errors:
            yield _Unit(1, None, [_report_line(job, parsed, parsed.errors)])
        else:
            data = parsed.data
            yield _Unit(
                1,
                CustomerData.from_mapping(
                    data,
                    source=CSV_SOURCE,
                    external_id=data["customer_id"],
                    consent_source=data.get("consent_source") or CSV_SOURCE,
                ),
            )


_KINDS: dict[ImportKind, tuple[Units, Upsert]] = {
    ImportKind.ORDERS: (_order_units, _upsert_orders),
    ImportKind.CUSTOMERS: (_customer_units, _upsert_customers),
}


def import_jobs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Judge queued and running imports by their heartbeat, never by their start: one silent for
    ``ImportJob.STALE_AFTER`` is queued again (its message was lost) or resumed where it stopped (its worker died);
    one that went silent after ``ImportJob.MAX_RESUMPTIONS`` resumptions is failed with its reason.

    Locks a batch of stale jobs with ``SKIP LOCKED`` (a job whose worker is committing a chunk is not stale) and
    queues their tasks after commit. Running it twice is harmless: a job it touched has a fresh heartbeat.
    """
    now = now or timezone.now()
    counts = {"requeued": 0, "resumed": 0, "failed": 0}
    silent = Q(heartbeat_at__lt=now - ImportJob.STALE_AFTER) | Q(heartbeat_at__isnull=True)
    with transaction.atomic():
        stale = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(silent, state__in=[ImportState.QUEUED, ImportState.RUNNING])
            .order_by("pk")[:SWEEP_BATCH]
        )
        for job in stale:
            counts[_sweep_one(job, now)] += 1
    return counts


def _sweep_one(job: ImportJob, now: datetime) -> str:
    if job.state == ImportState.RUNNING and job.resumptions >= ImportJob.MAX_RESUMPTIONS:
        job.state, job.failure, job.finished_at = ImportState.FAILED, ImportFailure.STALLED, now
        job.save(update_fields=["state", "failure", "finished_at"])
        return "failed"
    outcome = "requeued"
    if job.state == ImportState.RUNNING:
        # A new attempt: the dead worker's fence no longer matches, should it wake up.
        job.state, job.resumptions, outcome = ImportState.QUEUED, job.resumptions + 1, "resumed"
    job.heartbeat_at = now
    job.save(update_fields=["state", "resumptions", "heartbeat_at"])
    task_queue_on_commit("orders.csv_import", job.pk)
    return outcome
