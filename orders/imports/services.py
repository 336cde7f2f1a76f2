"""CSV imports: upload and detect, preview with errors, then import in a Celery task in chunks with progress.

Orders are keyed by (source, external id), so importing the same file twice creates nothing new. A row with an error
is skipped (with every other row of its order) and listed by line number in a downloadable report.
"""

import secrets
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.services import CustomerData, customers_upsert
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
from orders.models import ChangeOrigin, ImportJob, ImportKind, ImportState
from orders.services import ItemData, OrderData, orders_upsert
from shop.csv_safety import csv_lines
from shop.models import ShopSettings

MAX_FILE_BYTES = 200 * 1024 * 1024
CHUNK_ORDERS = 2000
PREVIEW_ROWS = 20
# A job still "running" after this long lost its worker: the sweeper queues it again (the import is idempotent).
STALE_RUNNING = timedelta(minutes=30)


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


def _parsed(job: ImportJob, limit: int | None = None) -> Iterable[RowResult]:
    shop = ShopSettings.load()
    zone = ZoneInfo(shop.time_zone)
    with job.file.open("rb") as handle:
        for count, (line, row) in enumerate(open_rows(handle, job.encoding, job.delimiter)):
            if limit is not None and count >= limit:
                return
            yield parse_row(line, row, job.mapping, job.kind, zone, shop.phone_region)


def import_job_preview(*, job: ImportJob) -> list[RowResult]:
    return list(_parsed(job, PREVIEW_ROWS))


def import_job_start(*, job: ImportJob) -> bool:
    """Queue the import; a job can be started once (conditional UPDATE), and the task is sent after commit."""
    from orders.tasks import csv_import_task

    if missing_fields(job):
        return False
    started = ImportJob.objects.filter(pk=job.pk, state=ImportState.UPLOADED).update(state=ImportState.QUEUED)
    if started:
        transaction.on_commit(lambda: csv_import_task.delay(job.pk))
    return bool(started)


def csv_import_run(*, job_id: int) -> None:
    """Run a queued import. Claimed with a conditional UPDATE (queued → running), so a repeated task message does
    nothing; progress is saved after every chunk of 2,000 orders."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportState.QUEUED).update(
        state=ImportState.RUNNING,
        started_at=timezone.now(),
        processed_rows=0,
        created_count=0,
        updated_count=0,
        unchanged_count=0,
        skipped_rows=0,
        error="",
    )
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)
    report: list[list[Any]] = []
    try:
        if job.kind == ImportKind.ORDERS:
            _import_orders(job, report)
        else:
            _import_customers(job, report)
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportState.FAILED, error=str(error), finished_at=timezone.now()
        )
        raise
    if report:
        content = "".join(csv_lines([[_("line"), _("reason")], *report]))
        job.error_report.save(f"{secrets.token_hex(16)}-errors.csv", ContentFile(content.encode("utf-8")), save=False)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.DONE,
        finished_at=timezone.now(),
        error_report=job.error_report.name or "",
        processed_rows=F("total_rows"),
    )


def _advance(job: ImportJob, rows: int, results: Iterable[Any], skipped: int) -> None:
    created = updated = unchanged = 0
    for result in results:
        if getattr(result, "created", False):
            created += 1
        elif getattr(result, "status_changed", False) or getattr(result, "changed", False):
            updated += 1
        else:
            unchanged += 1
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + rows,
        created_count=F("created_count") + created,
        updated_count=F("updated_count") + updated,
        unchanged_count=F("unchanged_count") + unchanged,
        skipped_rows=F("skipped_rows") + skipped,
    )


def _import_orders(job: ImportJob, report: list[list[Any]]) -> None:
    """Group the rows into orders (one row per order, or one per item with the order repeated), then upsert them
    in chunks. An order with any bad row is skipped whole, so it never lands with half its items."""
    orders: dict[str, list[RowResult]] = {}
    for parsed in _parsed(job):
        key = parsed.data.get("external_id") or f"#line{parsed.line}"
        orders.setdefault(key, []).append(parsed)
    source = "csv"
    batch: list[OrderData] = []
    rows_in_batch = skipped_in_batch = 0
    for rows in orders.values():
        rows_in_batch += len(rows)
        bad = [row for row in rows if row.errors]
        if bad:
            for row in rows:
                reasons = row.errors or [_("another line of this order has an error")]
                report.append([row.line, "; ".join(reasons)])
            skipped_in_batch += len(rows)
        else:
            batch.append(_order(rows, source))
        if len(batch) >= CHUNK_ORDERS:
            _advance(
                job,
                rows_in_batch,
                orders_upsert(items=batch, origin=ChangeOrigin.CSV, user=job.created_by),
                skipped_in_batch,
            )
            batch, rows_in_batch, skipped_in_batch = [], 0, 0
    results = orders_upsert(items=batch, origin=ChangeOrigin.CSV, user=job.created_by) if batch else []
    _advance(job, rows_in_batch, results, skipped_in_batch)


def _order(rows: list[RowResult], source: str) -> OrderData:
    first = rows[0].data
    items = tuple(
        ItemData(
            name=row.data["item_name"] or row.data["sku"] or _("Item"),
            price=row.data["price"] if row.data["price"] is not None else Decimal("0"),
            quantity=row.data.get("quantity") or Decimal("1"),
            sku=row.data["sku"],
            category=row.data["category"],
        )
        for row in rows
        if row.data["item_name"] or row.data["sku"] or row.data["price"] is not None
    )
    total = first["total"] or Decimal("0")
    delivery = first["delivery_cost"] or Decimal("0")
    discount = first["discount_total"] or Decimal("0")
    subtotal = sum((i.price * i.quantity for i in items), Decimal("0")) if items else total - delivery + discount
    return OrderData(
        source=source,
        external_id=first["external_id"],
        customer=CustomerData(
            source=source,
            external_id=first["customer_id"],
            name=first["name"],
            phones=tuple(first["phones"]),
            emails=tuple(first["emails"]),
            city=first["city"],
            address=first["address"],
            utm_source=first["utm_source"],
            utm_medium=first["utm_medium"],
            utm_campaign=first["utm_campaign"],
        ),
        placed_at=first["placed_at"],
        status=first["status"],
        status_at=first["placed_at"],
        currency=first["currency"][:3].upper(),
        subtotal=max(subtotal.quantize(Decimal("0.01")), Decimal("0")),
        discount_total=discount,
        delivery_cost=delivery,
        total=total,
        promo_code=first["promo_code"][:60],
        items=items or None,
    )


def _import_customers(job: ImportJob, report: list[list[Any]]) -> None:
    batch: list[CustomerData] = []
    rows = skipped = 0
    for parsed in _parsed(job):
        rows += 1
        if parsed.errors:
            report.append([parsed.line, "; ".join(parsed.errors)])
            skipped += 1
        else:
            data = parsed.data
            batch.append(
                CustomerData(
                    source="csv",
                    external_id=data["customer_id"],
                    name=data["name"],
                    phones=tuple(data["phones"]),
                    emails=tuple(data["emails"]),
                    city=data["city"],
                    address=data["address"],
                    utm_source=data["utm_source"],
                    utm_medium=data["utm_medium"],
                    utm_campaign=data["utm_campaign"],
                    email_consent=data["email_consent"],
                    sms_consent=data["sms_consent"],
                    consent_source="csv",
                )
            )
        if len(batch) >= CHUNK_ORDERS:
            _advance(job, rows, customers_upsert(items=batch), skipped)
            batch, rows, skipped = [], 0, 0
    _advance(job, rows, customers_upsert(items=batch) if batch else [], skipped)


def import_jobs_sweep(*, now: Any = None) -> int:
    """Queue again the imports whose worker died mid-run (PostgreSQL holds the work; the broker may lose it)."""
    from orders.tasks import csv_import_task

    cutoff = (now or timezone.now()) - STALE_RUNNING
    stale = list(
        ImportJob.objects.filter(state=ImportState.RUNNING, started_at__lt=cutoff).values_list("pk", flat=True)
    )
    requeued = [
        job_id
        for job_id in stale
        if ImportJob.objects.filter(pk=job_id, state=ImportState.RUNNING).update(state=ImportState.QUEUED)
    ]

    def send() -> None:
        for job_id in requeued:
            csv_import_task.delay(job_id)

    transaction.on_commit(send)
    return len(stale)


def elapsed(job: ImportJob) -> float:
    end = job.finished_at or timezone.now()
    return (end - job.started_at).total_seconds() if job.started_at else 0.0
