"""Rows that share an order number are one order's items: the order's fields on its first row, later rows that
disagree or items that do not add up are reported with their lines, never summed silently."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from orders.imports.running import csv_import_run
from orders.imports.services import import_job_create, import_job_preview, import_job_start
from orders.models import ImportJob, ImportState, Order

HEADER = ["Номер заказа", "Дата", "Статус", "Сумма", "Доставка", "Скидка", "ФИО", "Телефон", "Товар", "Цена", "Кол-во"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def imported(rows: list[list[str]], capture) -> ImportJob:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([HEADER, *rows])
    upload = SimpleUploadedFile("o.csv", buffer.getvalue().encode())
    job = import_job_create(upload=upload, kind="orders", user=None)
    with capture(execute=True):
        assert import_job_start(job=job)
    csv_import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def report(job: ImportJob) -> list[list[str]]:
    return list(csv.reader(io.StringIO(job.error_report.read().decode("utf-8-sig")), delimiter=";"))


FIRST = ["1001", "01.03.2026", "доставлен", "1250,50", "", "", "Иван Петров", "89991234567", "Чайник", "900", "1"]


@pytest.mark.django_db
def test_rows_sharing_an_order_number_become_one_order_with_its_items(django_capture_on_commit_callbacks):
    second = ["1001", "", "", "", "", "", "", "", "Кружка", "350,50", "1"]
    job = imported([FIRST, second], django_capture_on_commit_callbacks)
    assert (job.state, job.created_count, job.skipped_rows) == (ImportState.DONE, 1, 0)
    order = Order.objects.get()
    assert sorted(order.items.values_list("name", flat=True)) == ["Кружка", "Чайник"]
    assert str(order.total) == "1250.50"


@pytest.mark.django_db
def test_items_that_do_not_add_up_to_the_total_are_reported_with_their_lines(django_capture_on_commit_callbacks):
    repeated = ["1001", "01.03.2026", "доставлен", "1250,50", "", "", "Иван Петров", "89991234567", "Чайник", "1250,50"]
    job = imported([[*repeated, "1"], [*repeated, "1"]], django_capture_on_commit_callbacks)
    assert not Order.objects.exists()
    lines = {row[0]: row[1] for row in report(job)[1:]}
    assert "not the order total 1250.50" in lines["2"] and "lines 2, 3" in lines["2"]
    assert lines["3"] == "another line of this order has an error"


@pytest.mark.django_db
def test_discount_and_delivery_are_allowed_for_when_the_items_are_checked(django_capture_on_commit_callbacks):
    row = ["1002", "01.03.2026", "доставлен", "1000", "150", "50", "Мария", "89161112233", "Плед", "450", "2"]
    job = imported([row], django_capture_on_commit_callbacks)
    assert (job.created_count, job.skipped_rows) == (1, 0)


@pytest.mark.django_db
def test_rows_of_one_order_that_disagree_are_reported_not_merged(django_capture_on_commit_callbacks):
    second = ["1001", "02.03.2026", "", "1300", "", "", "", "", "Кружка", "350,50", "1"]
    job = imported([FIRST, second], django_capture_on_commit_callbacks)
    assert not Order.objects.exists()
    reason = {row[0]: row[1] for row in report(job)[1:]}["3"]
    assert "Order date" in reason and "Order total" in reason and "line 2" in reason


@pytest.mark.django_db
def test_the_error_report_carries_the_original_row_spreadsheet_safe(django_capture_on_commit_callbacks):
    bad = ["1003", "32.13.2026", "доставлен", "100", "", "", "=HYPERLINK(1)", "89990000003", "", "", ""]
    rows = report(imported([bad], django_capture_on_commit_callbacks))
    assert rows[0][:2] == ["line", "reason"] and rows[0][2:] == HEADER
    assert rows[1][0] == "2" and "not a date" in rows[1][1]
    assert rows[1][2:5] == ["1003", "32.13.2026", "доставлен"]
    assert rows[1][8] == "'=HYPERLINK(1)"


@pytest.mark.django_db
def test_the_preview_reads_to_the_end_of_the_order_it_stopped_in():
    rows = [[str(1000 + n), "01.03.2026", "доставлен", "10", "", "", "", "", "", "", ""] for n in range(19)]
    rows += [["2000", "01.03.2026", "доставлен", "30", "", "", "", "", "Ложка", "10", "1"]]
    rows += [["2000", "", "", "", "", "", "", "", "Вилка", "10", "1"]] * 2
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([HEADER, *rows, ["3000", "01.03.2026", "", "5"]])
    job = import_job_create(upload=SimpleUploadedFile("o.csv", buffer.getvalue().encode()), kind="orders", user=None)
    preview, problem = import_job_preview(job=job)
    assert [row.line for row in preview][-3:] == [21, 22, 23]
    assert not any(row.errors for row in preview) and problem == ""
