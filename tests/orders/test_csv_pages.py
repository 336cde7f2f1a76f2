"""CSV import pages: upload, preview with errors, import, progress JSON, error report and the role matrix."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from orders.imports.services import import_job_create
from orders.models import ImportJob, ImportState, Order
from shop.roles import Role
from tests.orders.test_csv_import import BAD_ROWS, GOOD_ROWS, csv_bytes


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def imported_job(client, django_capture_on_commit_callbacks) -> ImportJob:
    client.post(
        reverse("imports:new"), {"kind": "orders", "file": SimpleUploadedFile("o.csv", csv_bytes(GOOD_ROWS + BAD_ROWS))}
    )
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:detail", args=[job.pk]), {**job.mapping, "action": "import"})
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_the_pages_preview_then_import_and_report_progress(client_for, django_capture_on_commit_callbacks):
    manager = client_for(Role.MANAGER)
    response = manager.post(
        reverse("imports:new"), {"kind": "orders", "file": SimpleUploadedFile("o.csv", csv_bytes(GOOD_ROWS + BAD_ROWS))}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    preview = manager.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'data-testid="preview"' in preview and "table-danger" in preview
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(reverse("imports:detail", args=[job.pk]), {**job.mapping, "action": "import"})
    progress = manager.get(reverse("imports:progress", args=[job.pk])).json()
    assert (progress["state"], progress["percent"], progress["created"], progress["skipped_rows"]) == (
        "done",
        100,
        2,
        5,
    )
    assert progress["processed_rows"] == 7 and progress["has_report"] is True


@pytest.mark.django_db
def test_the_error_report_lists_each_bad_line_with_its_reason(client_for, django_capture_on_commit_callbacks):
    owner = client_for(Role.OWNER)
    job = imported_job(owner, django_capture_on_commit_callbacks)
    response = owner.get(reverse("imports:errors", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    # The report is written for Russian Excel, hence ';'. The header is line 1 and the two good rows are lines 2-3, so the bad ones are physical lines 4-8.
    assert sorted({int(line) for line, *_ in rows[1:]}) == [4, 5, 6, 7, 8]
    assert all(reason for _, reason, *_row in rows[1:])
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_an_upload_that_is_not_csv_is_refused_and_stores_no_job(client_for):
    response = client_for(Role.MANAGER).post(
        reverse("imports:new"), {"kind": "orders", "file": SimpleUploadedFile("o.xlsx", b"PK\x03\x04")}
    )
    assert response.status_code == 200
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_job_list_shows_each_job_with_its_state(client_for):
    job = import_job_create(upload=SimpleUploadedFile("o.csv", csv_bytes(GOOD_ROWS)), kind="orders", user=None)
    page = client_for(Role.OWNER).get(reverse("imports:list")).content.decode()
    assert reverse("imports:detail", args=[job.pk]) in page
    assert job.state == ImportState.UPLOADED


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["imports:detail", "imports:progress", "imports:errors"])
def test_operators_and_anonymous_visitors_may_not_see_a_job(client_for, name):
    job = import_job_create(upload=SimpleUploadedFile("o.csv", csv_bytes(GOOD_ROWS)), kind="orders", user=None)
    assert client_for(Role.OPERATOR).get(reverse(name, args=[job.pk])).status_code == 403
    anonymous = client_for(None).get(reverse(name, args=[job.pk]))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["imports:list", "imports:new"])
def test_operators_may_not_import(client_for, name):
    assert client_for(Role.OPERATOR).get(reverse(name)).status_code == 403
    anonymous = client_for(None).get(reverse(name))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_owners_and_managers_may_open_the_upload_page(client_for, role):
    assert client_for(role).get(reverse("imports:new")).status_code == 200
