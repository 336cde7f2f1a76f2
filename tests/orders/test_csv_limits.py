"""A CSV import refuses what the API refuses: another currency than the shop's and more than 500 items an order,
each skipped with its reason and line while the good orders land."""

import csv
import io

import pytest

from orders.models import ImportState, Order
from tests.orders.test_csv_import import GOOD_ROWS, RU_HEADER, csv_bytes, run, upload

CURRENCY_HEADER = [*RU_HEADER, "Валюта"]


def _report(job) -> dict[str, str]:
    text = job.error_report.read().decode("utf-8-sig")
    return {row[0]: row[1] for row in csv.reader(io.StringIO(text), delimiter=";")}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.django_db
def test_an_order_in_an_unknown_currency_is_skipped_naming_it(django_capture_on_commit_callbacks):
    rows = [[*GOOD_ROWS[0], "RUB"], [*GOOD_ROWS[1], "XYZ"]]
    job = run(upload(csv_bytes(rows, header=CURRENCY_HEADER)), django_capture_on_commit_callbacks)

    assert job.state == ImportState.DONE
    assert list(Order.objects.values_list("external_id", flat=True)) == ["1001"]
    assert "XYZ" in _report(job)["3"]


@pytest.mark.django_db
def test_an_order_of_more_than_500_items_is_skipped_with_its_reason(django_capture_on_commit_callbacks):
    big = [
        ["2001", "01.03.2026", "доставлен", "501", "Оптовик", "+79990000001", "", "", f"Товар {n}", "1", "1"]
        for n in range(501)
    ]
    job = run(upload(csv_bytes([GOOD_ROWS[0], *big])), django_capture_on_commit_callbacks)

    assert list(Order.objects.values_list("external_id", flat=True)) == ["1001"]
    assert "500" in _report(job)["3"]
