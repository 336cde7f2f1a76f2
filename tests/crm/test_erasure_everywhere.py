"""After an erasure nothing of the person is left: not in any text column of the database, not in an uploaded
import file still kept (nor its error report), not in the logs written while staff looked them up."""

import csv
import io
import logging
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from crm.privacy import customer_erase_personal_data
from customers.models import Customer
from orders.imports.running import csv_import_run
from orders.imports.services import import_job_create, import_job_start
from orders.models import ImportJob, Order
from shop.roles import Role
from tests.factories import make_owner, make_user

NAME = "Зоя Эрасова"
EMAIL = "zoya.erasova@example.com"
PHONE = "+79997776655"
DIGITS = "9997776655"
HEADER = ["Номер заказа", "Дата", "Статус", "Сумма", "ФИО", "Телефон", "E-mail", "Товар", "Цена", "Кол-во"]
ROWS = [
    ["Z-1", "01.03.2026", "доставлен", "900", NAME, "8 (999) 777-66-55", EMAIL, "Чайник", "900", "1"],
    # Her second order does not add up: it is skipped, and its row goes to the error report.
    ["Z-2", "02.03.2026", "доставлен", "100", NAME, "8 (999) 777-66-55", EMAIL, "Кружка", "350", "1"],
    ["K-1", "01.03.2026", "доставлен", "500", "Ким Остаётся", "+7 999 111-22-33", "kim@example.com", "Чай", "500", "1"],
]
TEXT_TYPES = ("character varying", "text", "json", "jsonb", "character")


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(%s)",
            [list(TEXT_TYPES)],
        )
        return list(cursor.fetchall())


def _database_occurrences() -> list[str]:
    """Every (table.column) that still holds the name, the email, or the phone's digits however written."""
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            value = f'"{column}"::text'
            cursor.execute(
                f'SELECT count(*) FROM public."{table}" WHERE {value} ILIKE %s OR {value} ILIKE %s '  # noqa: S608
                f"OR regexp_replace({value}, '\\D', '', 'g') LIKE %s",
                [f"%{NAME}%", f"%{EMAIL}%", f"%{DIGITS}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def _occurrences_in(text: str) -> list[str]:
    found = [needle for needle in (NAME, EMAIL) if needle.casefold() in text.casefold()]
    if any(DIGITS in re.sub(r"\D", "", line) for line in text.splitlines()):
        found.append(DIGITS)
    return found


def _import(django_capture_on_commit_callbacks: object) -> ImportJob:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([HEADER, *ROWS])
    job = import_job_create(upload=SimpleUploadedFile("o.csv", buffer.getvalue().encode()), kind="orders", user=None)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert import_job_start(job=job)
    csv_import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_an_erased_person_is_nowhere_in_the_database_the_kept_files_or_the_logs(
    settings: object, tmp_path: Path, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: object
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    caplog.set_level(logging.DEBUG)
    job = _import(django_capture_on_commit_callbacks)
    assert job.skipped_rows == 1 and job.error_report, "the scenario needs a kept file and an error report"
    customer = Customer.objects.get(orders__external_id="Z-1")
    staff = Client()
    staff.force_login(make_user(Role.MANAGER))
    for query in (PHONE, DIGITS, EMAIL, NAME):
        assert staff.get("/customers/", {"q": query}).status_code == 200
    staff.get("/call/", {"phone": PHONE})
    logging.getLogger("retain.test").warning("Looked up %s, %s", PHONE, EMAIL)
    logging.getLogger("django.server").info('"GET /customers/?q=%s HTTP/1.1" 200', "8+(999)+777-66-55")
    assert _database_occurrences(), "the scenario must have stored the person before the erasure"

    customer_erase_personal_data(customer=customer, user=make_owner())

    assert _database_occurrences() == []
    kept = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(kept) == 2, kept  # the upload and its error report are still kept, without her rows
    for path in kept:
        assert _occurrences_in(path.read_bytes().decode("utf-8-sig")) == [], path.name
    assert "Ким Остаётся" in (tmp_path / str(job.file.name)).read_text(encoding="utf-8")
    assert _occurrences_in(caplog.text) == []
    assert _occurrences_in("\n".join(str(message.body) for message in mail.outbox)) == []
    assert Order.objects.filter(external_id="Z-1").exists(), "the orders stay for the shop's accounts"
