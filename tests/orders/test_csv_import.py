"""CSV import: detection, mapping, row errors with line numbers, idempotent re-import, progress, roles."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from customers.models import Customer
from orders.imports.parsing import auto_mapping, detect_delimiter, detect_encoding
from orders.imports.running import csv_import_run
from orders.imports.services import CsvImportError, import_job_create, import_job_start
from orders.models import ImportJob, ImportState, Order, OrderItem

RU_HEADER = ["Номер заказа", "Дата", "Статус", "Сумма", "ФИО", "Телефон", "Email", "Город", "Товар", "Цена", "Кол-во"]
GOOD_ROWS = [
    [
        "1001",
        "01.03.2026",
        "доставлен",
        "1 500,00",
        "Иван Петров",
        "8 (999) 123-45-67",
        "ivan@example.ru",
        "Москва",
        "Чайник",
        "1500",
        "1",
    ],
    [
        "1002",
        "2026-03-02 14:30",
        "оплачен",
        "990",
        "Мария Соколова",
        "+7 916 555 44 33",
        "",
        "Казань",
        "Кружка",
        "495",
        "2",
    ],
]
BAD_ROWS = [
    ["1003", "32.13.2026", "доставлен", "100", "Плохая дата", "89990000003", "", "", "", "", ""],
    ["1004", "01.03.2026", "потерян", "100", "Неизвестный статус", "89990000004", "", "", "", "", ""],
    ["1005", "01.03.2026", "доставлен", "100", "Отрицательная цена", "89990000005", "", "", "Товар", "-5", "1"],
    ["1006", "01.03.2026", "доставлен", "100", "Плохой телефон", "12345", "", "", "", "", ""],
    ["", "01.03.2026", "доставлен", "100", "Нет номера", "89990000007", "", "", "", "", ""],
]


def csv_bytes(
    rows: list[list[str]], header: list[str] = RU_HEADER, delimiter: str = ";", encoding: str = "cp1251"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def upload(content: bytes, kind: str = "orders", name: str = "orders.csv", user=None) -> ImportJob:
    return import_job_create(upload=SimpleUploadedFile(name, content), kind=kind, user=user)


def run(job: ImportJob, django_capture_on_commit_callbacks) -> ImportJob:
    with django_capture_on_commit_callbacks(execute=True):
        assert import_job_start(job=job)
    job.refresh_from_db()
    return job


def test_windows_1251_and_utf8_with_bom_are_told_apart():
    assert detect_encoding("Номер;Дата".encode("cp1251")) == "cp1251"
    assert detect_encoding("\ufeffНомер;Дата".encode()) == "utf-8-sig"


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_the_separator_is_detected(delimiter):
    text = csv_bytes(GOOD_ROWS, delimiter=delimiter, encoding="utf-8").decode()
    assert detect_delimiter(text) == delimiter


def test_russian_and_english_headers_map_to_the_same_fields():
    russian = auto_mapping(RU_HEADER, "orders")
    english = auto_mapping(["Order ID", "Date", "Status", "Total", "Name", "Phone", "E-mail", "City"], "orders")
    assert set(russian) >= {"external_id", "placed_at", "status", "total", "name", "phone", "email", "item_name"}
    assert set(english) >= {"external_id", "placed_at", "status", "total", "name", "phone", "email", "city"}


@pytest.mark.django_db
def test_good_rows_are_stored_and_every_bad_row_is_reported_with_its_line(django_capture_on_commit_callbacks, owner):
    job = run(upload(csv_bytes(GOOD_ROWS + BAD_ROWS), user=owner), django_capture_on_commit_callbacks)
    assert job.state == ImportState.DONE
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["1001", "1002"]
    assert (job.created_count, job.skipped_rows, job.processed_rows) == (2, 5, 7)
    report = job.error_report.read().decode("utf-8-sig")
    lines = {row[0]: row[1] for row in csv.reader(io.StringIO(report), delimiter=";")}
    assert "not a date" in lines["4"]
    assert "Unknown status" in lines["5"]
    assert "negative" in lines["6"]
    assert "12345" in lines["7"]
    assert "Order number" in lines["8"]


@pytest.mark.django_db
def test_amounts_dates_phones_and_statuses_are_read_the_russian_way(django_capture_on_commit_callbacks):
    run(upload(csv_bytes(GOOD_ROWS)), django_capture_on_commit_callbacks)
    first = Order.objects.get(external_id="1001")
    assert (first.total, first.status, first.source) == (Decimal("1500.00"), "delivered", "csv")
    assert first.placed_at == datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Moscow"))
    assert first.customer.phones.get().number == "+79991234567"
    assert OrderItem.objects.get(order__external_id="1002").quantity == 2


@pytest.mark.django_db
def test_importing_the_same_file_again_creates_nothing_new(django_capture_on_commit_callbacks):
    content = csv_bytes(GOOD_ROWS)
    run(upload(content), django_capture_on_commit_callbacks)
    again = run(upload(content), django_capture_on_commit_callbacks)
    assert Order.objects.count() == 2 and Customer.objects.count() == 2
    assert (again.created_count, again.unchanged_count) == (0, 2)


@pytest.mark.django_db
def test_a_file_with_one_row_per_item_is_grouped_into_orders(django_capture_on_commit_callbacks):
    rows = [
        ["2001", "01.03.2026", "доставлен", "1300", "Анна", "89990001111", "", "", "Плед", "1000", "1"],
        ["2001", "01.03.2026", "доставлен", "1300", "Анна", "89990001111", "", "", "Носки", "150", "2"],
    ]
    run(upload(csv_bytes(rows)), django_capture_on_commit_callbacks)
    order = Order.objects.get()
    assert order.items.count() == 2 and order.subtotal == Decimal("1300.00")


@pytest.mark.django_db
def test_one_bad_line_skips_its_whole_order(django_capture_on_commit_callbacks):
    rows = [
        ["3001", "01.03.2026", "доставлен", "1300", "Анна", "89990001111", "", "", "Плед", "1000", "1"],
        ["3001", "01.03.2026", "доставлен", "1300", "Анна", "89990001111", "", "", "Носки", "-150", "2"],
    ]
    job = run(upload(csv_bytes(rows)), django_capture_on_commit_callbacks)
    assert not Order.objects.exists()
    assert job.skipped_rows == 2


@pytest.mark.django_db
def test_a_customers_file_upserts_customers(django_capture_on_commit_callbacks):
    content = csv_bytes(
        [["c-1", "Ольга", "8 999 000 11 22", "olga@example.ru", "Тула"]],
        header=["ID клиента", "Имя", "Телефон", "Почта", "Город"],
        delimiter=",",
        encoding="utf-8-sig",
    )
    job = run(upload(content, kind="customers"), django_capture_on_commit_callbacks)
    customer = Customer.objects.get()
    assert (customer.name, customer.city, job.created_count) == ("Ольга", "Тула", 1)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content"), [("orders.xlsx", b"x"), ("orders.csv", b"   ")])
def test_a_wrong_or_empty_file_is_refused_with_a_reason(name, content):
    with pytest.raises(CsvImportError):
        upload(content, name=name)
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_import_runs_once_even_if_its_task_is_delivered_twice(django_capture_on_commit_callbacks):
    job = run(upload(csv_bytes(GOOD_ROWS)), django_capture_on_commit_callbacks)
    csv_import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.created_count == 2
