"""Platform presets: each platform's export is recognised from its headers and imported with no hand mapping,
its multi-item orders as one order each (sample files in tests/orders/csv_samples/, written for these tests)."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from orders.imports.running import csv_import_run
from orders.imports.services import import_job_create, import_job_start, job_preset, missing_fields
from orders.models import ImportState, Order

SAMPLES = Path(__file__).parent / "csv_samples"
# preset key → (the multi-item order's number, its items, its total, its status)
EXPECTED = {
    "shopify": ("#1001", 2, Decimal("1250.00"), "delivered"),
    "woocommerce": ("4993", 2, Decimal("1500.50"), "delivered"),
    "opencart": ("57", 2, Decimal("4090.00"), "delivered"),
    "insales": ("1201", 3, Decimal("7338.00"), "delivered"),
    "bitrix": ("812", 2, Decimal("4589.00"), "delivered"),
    "tilda": ("1834520101", 2, Decimal("2452.00"), "delivered"),
    "retailcrm": ("3301A", 2, Decimal("3290.00"), "delivered"),
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def upload_sample(key: str):
    content = (SAMPLES / f"{key}.csv").read_bytes()
    return import_job_create(upload=SimpleUploadedFile(f"{key}.csv", content), kind="orders", user=None)


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_platform_export_is_recognised_and_needs_no_hand_mapping(key):
    job = upload_sample(key)
    preset = job_preset(job)
    assert preset is not None and preset.key == key
    assert missing_fields(job) == []
    assert {"external_id", "placed_at", "total", "item_name", "quantity"} <= set(job.mapping)


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_platform_export_imports_its_orders_with_their_items(key, django_capture_on_commit_callbacks):
    job = upload_sample(key)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_job_start(job=job)
    csv_import_run(job_id=job.pk)
    job.refresh_from_db()
    number, items, total, status = EXPECTED[key]
    assert (job.state, job.skipped_rows, job.created_count) == (ImportState.DONE, 0, 3)
    order = Order.objects.get(external_id=number)
    assert (order.items.count(), order.total, order.status) == (items, total, status)
    assert order.customer.phones.exists()


@pytest.mark.django_db
def test_shopify_name_is_the_order_number_not_the_customer():
    job = upload_sample("shopify")
    assert job.mapping["external_id"] == "Name"
    assert job.mapping["name"] == "Billing Name"
    assert (job.mapping["placed_at"], job.mapping["price"]) == ("Created at", "Lineitem price")


@pytest.mark.django_db
def test_the_russian_opencart_export_finds_its_total_and_date():
    job = upload_sample("opencart")
    assert (job.mapping["total"], job.mapping["placed_at"]) == ("Итого (цена):", "Дата покупки")


@pytest.mark.django_db
def test_a_file_of_no_platform_is_mapped_by_its_column_names():
    content = "Номер заказа;Дата;Сумма\n1;01.03.2026;100\n".encode()
    job = import_job_create(upload=SimpleUploadedFile("o.csv", content), kind="orders", user=None)
    assert job_preset(job) is None
    assert job.mapping == {"external_id": "Номер заказа", "placed_at": "Дата", "total": "Сумма"}


@pytest.mark.django_db
def test_a_surname_in_its_own_column_joins_the_customers_name(django_capture_on_commit_callbacks):
    job = upload_sample("woocommerce")
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job=job)
    csv_import_run(job_id=job.pk)
    assert Order.objects.get(external_id="4993").customer.name == "Ирина Лебедева"
