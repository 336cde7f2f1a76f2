"""The preview speaks the manager's language: columns by their meaning (not database field names), statuses by
name, and the platform it recognised."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import ImportJob
from shop.roles import Role

SAMPLES = Path(__file__).parent / "csv_samples"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def preview_page(client, sample: str, language: str) -> str:
    content = (SAMPLES / sample).read_bytes()
    client.post(reverse("imports:new"), {"kind": "orders", "file": SimpleUploadedFile(sample, content)})
    job = ImportJob.objects.get()
    response = client.get(reverse("imports:detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_russian_preview_labels_columns_and_statuses_in_russian_and_names_the_platform(client_for):
    page = preview_page(client_for(Role.MANAGER), "shopify.csv", "ru")
    assert 'data-testid="preset"' in page and "Распознана выгрузка заказов из Shopify" in page
    assert "Номер заказа" in page and "Дата заказа" in page and "Цена за единицу" in page
    # Shopify #1001 paid and fulfilled is delivered, #1002 refunded after its fulfilment is a return.
    assert "<td>Доставлен</td>" in page and "<td>Возвращён</td>" in page and "<td>Оплачен</td>" in page
    assert ">external_id" not in page and ">placed_at" not in page
    assert "<td>paid</td>" not in page


@pytest.mark.django_db
def test_the_mapping_form_names_fields_in_the_managers_language(client_for):
    page = preview_page(client_for(Role.MANAGER), "opencart.csv", "ru")
    assert "OpenCart" in page
    assert ">Сумма заказа *<" in page and ">Дата заказа *<" in page
    assert ">total *<" not in page
