"""Marketing consent arrives with its proof — source, wording version, time — from the API and CSV files, and
is kept on the customer and in the consent history."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import ConsentChange, Customer
from customers.services import customer_set_consent
from orders.imports.services import import_job_create, import_job_start
from shop.roles import Capability
from tests.factories import CustomerFactory

CUSTOMERS = reverse("api:customers_upsert")
GIVEN = datetime(2026, 11, 20, 11, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _media(settings: object, tmp_path: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_api_stores_consent_with_its_source_wording_and_time(api_client_for: object) -> None:
    client = api_client_for(Capability.IMPORT)  # type: ignore[operator]
    row = {
        "external_id": "c-1",
        "phones": ["89991234567"],
        "sms_consent": True,
        "consent_source": "checkout",
        "consent_wording": "2026-10",
        "consent_at": "2026-11-20T14:05:00+03:00",
    }
    assert client.post(CUSTOMERS, {"customers": [row]}, format="json").status_code == 200
    customer = Customer.objects.get()
    assert (customer.sms_consent, customer.sms_consent_source, customer.sms_consent_wording) == (
        True,
        "checkout",
        "2026-10",
    )
    assert customer.sms_consent_at == GIVEN
    change = ConsentChange.objects.get()
    assert (change.channel, change.source, change.wording, change.changed_at) == ("sms", "checkout", "2026-10", GIVEN)


@pytest.mark.django_db
def test_a_withdrawal_through_the_api_of_an_existing_customer_is_kept_with_its_proof(api_client_for: object) -> None:
    client = api_client_for(Capability.IMPORT)  # type: ignore[operator]
    first = {"external_id": "c-1", "phones": ["89991234567"], "email_consent": True, "consent_wording": "v1"}
    client.post(CUSTOMERS, {"customers": [first]}, format="json")
    withdrawal = {"external_id": "c-1", "email_consent": False, "consent_source": "account page"}
    client.post(CUSTOMERS, {"customers": [withdrawal]}, format="json")
    history = list(ConsentChange.objects.order_by("id").values_list("granted", "source", "wording"))
    assert history == [(True, "test", "v1"), (False, "account page", "")]


@pytest.mark.django_db
def test_a_consent_time_that_is_not_a_date_is_refused_and_nothing_is_stored(api_client_for: object) -> None:
    client = api_client_for(Capability.IMPORT)  # type: ignore[operator]
    row = {"external_id": "c-1", "phones": ["89991234567"], "sms_consent": True, "consent_at": "yesterday"}
    assert client.post(CUSTOMERS, {"customers": [row]}, format="json").status_code == 400
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_a_customers_csv_imports_consent_with_its_proof(django_capture_on_commit_callbacks: object) -> None:
    content = (
        "ID клиента;Телефон;Согласие на SMS;Источник согласия;Версия согласия;Дата согласия\r\n"
        "c-7;8 999 000 11 22;да;магазин на Тверской;2026-03;01.03.2026\r\n"
    ).encode("utf-8-sig")
    job = import_job_create(upload=SimpleUploadedFile("customers.csv", content), kind="customers", user=None)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert import_job_start(job=job)
    customer = Customer.objects.get()
    assert (customer.sms_consent, customer.sms_consent_source, customer.sms_consent_wording) == (
        True,
        "магазин на Тверской",
        "2026-03",
    )
    assert customer.sms_consent_at == datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.mark.django_db
def test_setting_consent_records_the_wording_version_in_the_history() -> None:
    customer = CustomerFactory.create()
    customer_set_consent(customer_id=customer.pk, channel="email", granted=True, source="manager", wording="2026-01")
    customer.refresh_from_db()
    assert customer.email_consent_wording == "2026-01"
    assert ConsentChange.objects.get().wording == "2026-01"
