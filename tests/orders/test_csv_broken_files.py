"""Broken files never answer 500: each is refused on upload with a message naming its line, nothing is kept, and an
import whose file turned unreadable fails with that message instead of raising."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from orders.imports.running import csv_import_run
from orders.imports.services import CsvImportError, import_job_create, import_job_start
from orders.models import ImportJob, ImportState, Order
from shop.roles import Role

HEADER = "Номер заказа;Дата;Сумма;ФИО\r\n"
GOOD = "1001;01.03.2026;1500;Иван Петров\r\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def refusal(content: bytes) -> str:
    with pytest.raises(CsvImportError) as raised:
        import_job_create(upload=SimpleUploadedFile("o.csv", content), kind="orders", user=None)
    return str(raised.value)


@pytest.mark.django_db
def test_a_quote_left_open_is_refused_naming_its_line():
    message = refusal((HEADER + GOOD + '1002;02.03.2026;990;"Мария\r\n' + GOOD).encode())
    assert "Line 3" in message and "quote" in message
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_quoted_value_followed_by_more_text_is_refused_naming_its_line():
    assert "Line 2" in refusal((HEADER + '1001;01.03.2026;1500;"Иван" Петров\r\n').encode())


@pytest.mark.django_db
def test_a_field_over_128_kb_is_refused_naming_its_line():
    message = refusal((HEADER + GOOD + GOOD + "1003;01.03.2026;" + "9" * 140_000 + ";X\r\n").encode())
    assert "Line 4" in message and "128 KB" in message


@pytest.mark.django_db
def test_a_line_in_another_encoding_is_refused_naming_its_line():
    padding = GOOD * 2000  # past the 64 KB the encoding is detected from
    content = (HEADER + padding).encode() + "1;01.03.2026;5;Пётр\r\n".encode("cp1251")
    message = refusal(content)
    assert "Line 2002" in message and "encoding" in message


@pytest.mark.django_db
def test_binary_data_is_refused_as_not_csv():
    assert "not a CSV file" in refusal(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00xl/workbook.xml")


@pytest.mark.django_db
def test_a_utf16_file_is_refused_with_how_to_save_it():
    assert "UTF-16" in refusal((HEADER + GOOD).encode("utf-16"))


@pytest.mark.django_db
def test_a_header_with_no_rows_is_refused():
    assert "no rows" in refusal(HEADER.encode())
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_empty_file_is_refused():
    assert "empty" in refusal(b"  \r\n")


@pytest.mark.django_db
def test_the_upload_page_shows_a_broken_files_line_instead_of_a_server_error(client_for):
    manager = client_for(Role.MANAGER)
    with translation.override("ru"):
        response = manager.post(
            reverse("imports:new"),
            {"kind": "orders", "file": SimpleUploadedFile("o.csv", (HEADER + '1;2;"3\r\n').encode())},
            HTTP_ACCEPT_LANGUAGE="ru",
        )
    assert response.status_code == 200
    assert 'data-testid="upload-error"' in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_import_whose_file_turned_unreadable_fails_with_the_line(django_capture_on_commit_callbacks):
    job = import_job_create(upload=SimpleUploadedFile("o.csv", (HEADER + GOOD).encode()), kind="orders", user=None)
    job.file.save(str(job.file.name).rsplit("/", 1)[-1], ContentFile((HEADER + GOOD + '2;"x\r\n').encode()), save=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_job_start(job=job)
    csv_import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ImportState.FAILED
    assert "Line 3" in job.failure_reason
    assert not Order.objects.exists()
