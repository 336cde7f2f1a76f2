"""CSV import speed: a file of 100,000 orders as Russian Excel saves it (Windows-1251, ";"), imported by the real
service, synchronously, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_apibench .venv/bin/python bench/csv_import.py [--orders N]

Prints the time to upload and detect, and the import's rows per second. Run it twice to see a re-import (nothing new).
"""

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

HEADER = ["Номер заказа", "Дата", "Статус", "Сумма", "Доставка", "ФИО", "Телефон", "Email", "Город", "Товар", "Цена"]
STATUSES = ["доставлен"] * 8 + ["отменён", "возврат", "оплачен", "отправлен"]


def make_file(orders: int) -> bytes:
    rng = random.Random(42)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for n in range(orders):
        customer = rng.randrange(orders // 3)
        price = rng.randrange(300, 20000)
        writer.writerow(
            [
                f"CSV-{n}",
                f"{rng.randrange(1, 28):02d}.{rng.randrange(1, 13):02d}.2025 {rng.randrange(24):02d}:15",
                rng.choice(STATUSES),
                f"{price + 299},00",
                "299",
                f"Покупатель {customer}",
                f"8 (997) {customer:07d}"[:18],
                f"buyer{customer}@example.ru",
                "Москва",
                "Наушники",
                f"{price},00",
            ]
        )
    return buffer.getvalue().encode("cp1251")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orders.imports.running import csv_import_run
    from orders.imports.services import import_job_create
    from orders.models import ImportJob, ImportState

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="retain-bench-media-")
    content = make_file(args.orders)
    started = time.monotonic()
    job = import_job_create(upload=SimpleUploadedFile("orders.csv", content), kind="orders", user=None)
    detected = time.monotonic() - started
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.QUEUED)
    started = time.monotonic()
    csv_import_run(job_id=job.pk)
    spent = time.monotonic() - started
    job.refresh_from_db()
    print(f"file: {len(content) / 1e6:.1f} MB, {job.total_rows:,} rows, {job.encoding}, separator {job.delimiter!r}")
    print(f"upload and detection: {detected:.1f} s")
    print(
        f"import: {spent:.1f} s = {job.total_rows / spent:,.0f} rows/s; created {job.created_count:,}, "
        f"updated {job.updated_count:,}, unchanged {job.unchanged_count:,}, skipped rows {job.skipped_rows:,}"
    )


if __name__ == "__main__":
    main()
