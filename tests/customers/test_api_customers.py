"""POST /api/v1/customers: the platform's own customer records, upserted one or a thousand at a time."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import ConsentChannel, Customer
from shop.roles import Capability

CUSTOMERS = reverse("api:customers_upsert")

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer(api_client_for) -> APIClient:
    return api_client_for(Capability.IMPORT)


def test_the_customers_endpoint_updates_the_platforms_record(importer):
    importer.post(
        CUSTOMERS, {"customers": [{"external_id": "c-1", "name": "Анна", "phones": ["89991234567"]}]}, format="json"
    )
    response = importer.post(
        CUSTOMERS, {"customers": [{"external_id": "c-1", "name": "Анна Петрова", "city": "Тверь"}]}, format="json"
    )
    assert response.json()["results"][0]["created"] is False
    customer = Customer.objects.get()
    assert (customer.name, customer.city) == ("Анна Петрова", "Тверь")


def test_one_customer_is_accepted_without_a_batch_wrapper_with_its_phone_in_e164_and_its_consent(importer):
    response = importer.post(
        CUSTOMERS,
        {"external_id": "c-2", "name": "Олег", "phones": ["8 (916) 555-44-33"], "email_consent": True},
        format="json",
    )
    assert response.status_code == 200 and response.json()["results"][0]["created"] is True
    customer = Customer.objects.get()
    assert customer.phones.get().number == "+79165554433"
    assert customer.consent_changes.filter(channel=ConsentChannel.EMAIL, granted=True).exists()


def test_a_batch_with_a_customer_nobody_could_match_is_refused_whole_and_stores_nothing(importer):
    response = importer.post(
        CUSTOMERS, {"customers": [{"external_id": "c-3", "name": "Ок"}, {"name": "Без контактов"}]}, format="json"
    )
    assert response.status_code == 400
    assert "1" in response.json()["error"]["fields"]["customers"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("scope", [Capability.LOOKUP, Capability.QUOTE])
def test_tokens_without_the_import_scope_may_not_upsert_customers(api_client_for, scope):
    response = api_client_for(scope).post(CUSTOMERS, {"external_id": "c-4", "name": "Нет"}, format="json")
    assert response.status_code == 403
    assert not Customer.objects.exists()
