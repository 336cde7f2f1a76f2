"""Limits of the ingestion API: the shop's currency only, 500 items an order, 1,000 orders a batch, and a token
that writes only its own sources; every refusal is JSON naming the field, and nothing is stored."""

import json

import pytest
from django.conf import settings
from django.urls import reverse

from customers.models import Customer
from orders.models import Order
from shop.roles import Capability
from tests.factories import CustomerFactory

ORDERS = reverse("api:orders_upsert")
CUSTOMERS = reverse("api:customers_upsert")


def order(external_id: str = "1", **extra: object) -> dict:
    return {
        "external_id": external_id,
        "status": "paid",
        "placed_at": "2026-11-20T14:05:00+03:00",
        "total": "100.00",
        "items": [{"name": "Чай", "price": "100.00"}],
        "customer": {"phones": ["+79991234567"]},
        **extra,
    }


@pytest.fixture
def importer(api_client_for):
    return api_client_for(Capability.IMPORT, sources=("site", "ozon"))


@pytest.mark.django_db
def test_an_unknown_currency_is_refused_naming_the_field_and_nothing_is_stored(importer):
    response = importer.post(ORDERS, {"orders": [order("1"), order("2", currency="XYZ")]}, format="json")

    assert response.status_code == 400
    body = response.json()["error"]
    assert "XYZ" in body["fields"]["orders"]["1"]["currency"][0]
    assert "RUB" in body["fields"]["orders"]["1"]["currency"][0]
    assert not Order.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db
def test_the_shops_currency_is_accepted_and_an_absent_one_means_the_shops(importer):
    response = importer.post(ORDERS, {"orders": [order("1", currency="RUB"), order("2")]}, format="json")

    assert response.status_code == 200, response.json()
    assert set(Order.objects.values_list("currency", flat=True)) == {"RUB"}


@pytest.mark.django_db
def test_an_order_of_more_than_500_items_is_refused_naming_the_field(importer):
    items = [{"name": f"Товар {n}", "price": "1.00"} for n in range(501)]
    response = importer.post(ORDERS, order("1", items=items, total="501.00"), format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "500" in response.json()["error"]["fields"]["orders"]["0"]["items"][0]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_order_of_exactly_500_items_is_accepted(importer):
    items = [{"name": f"Товар {n}", "price": "1.00"} for n in range(500)]
    response = importer.post(ORDERS, order("1", items=items, total="500.00"), format="json")

    assert response.status_code == 200, response.json()
    assert Order.objects.get().items.count() == 500


@pytest.mark.django_db
def test_a_batch_of_more_than_1000_orders_is_a_json_400_naming_the_field(importer):
    batch = [order(str(n)) for n in range(10_000)]
    response = importer.post(ORDERS, data=json.dumps({"orders": batch}), content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert "1000" in error["fields"]["orders"][0] and "10000" in error["fields"]["orders"][0]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_token_cannot_write_another_sources_orders(importer):
    theirs = Order.objects.create(
        source="wildberries", external_id="1", customer=CustomerFactory.create(), placed_at="2026-11-01T10:00Z"
    )
    response = importer.post(
        ORDERS, {"orders": [order("1", source="ozon"), order("1", source="wildberries")]}, format="json"
    )

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "source_forbidden"
    assert "wildberries" in error["fields"]["orders"]["1"]["source"][0]
    assert Order.objects.get() == theirs and theirs.status == Order.objects.get().status
    assert not Order.objects.filter(source="ozon").exists()


@pytest.mark.django_db
def test_a_token_writes_its_bound_sources_and_rows_without_one_go_to_the_first(importer):
    response = importer.post(ORDERS, {"orders": [order("1", source="ozon"), order("2")]}, format="json")

    assert response.status_code == 200, response.json()
    assert sorted(Order.objects.values_list("source", "external_id")) == [("ozon", "1"), ("site", "2")]


@pytest.mark.django_db
def test_a_token_bound_to_nothing_writes_only_the_source_of_its_own_name(api_client_for):
    client = api_client_for(Capability.IMPORT)  # named "test"

    assert client.post(ORDERS, order("1", source="site"), format="json").status_code == 403
    assert client.post(ORDERS, order("1"), format="json").status_code == 200
    assert list(Order.objects.values_list("source", flat=True)) == ["test"]


@pytest.mark.django_db
def test_a_token_cannot_write_another_sources_customers(importer):
    response = importer.post(
        CUSTOMERS, {"source": "wildberries", "customers": [{"external_id": "c-1", "name": "Анна"}]}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "source_forbidden"
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_staff_with_the_import_capability_may_write_any_source(client_for):
    from rest_framework.test import APIClient

    from shop.roles import Role
    from tests.factories import make_user

    api = APIClient()
    api.force_authenticate(make_user(Role.MANAGER))
    response = api.post(ORDERS, order("1", source="wildberries"), format="json")
    assert response.status_code == 200, response.json()


@pytest.mark.django_db
def test_a_batch_too_large_to_read_with_an_idempotency_key_is_a_json_error_naming_the_limit(importer):
    batch = [order(str(n), promo_code="AUTUMN-" + "X" * 40) for n in range(10_000)]
    body = json.dumps({"orders": batch})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # past what Django reads whole into memory
    response = importer.post(ORDERS, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="big-1")

    assert response.status_code in {400, 413}
    assert response["Content-Type"] == "application/json"
    assert "1,000" in response.json()["error"]["message"] or "1000" in json.dumps(response.json()["error"]["fields"])
    assert not Order.objects.exists()
