"""The ingestion API: upserting orders, validation, roles and Idempotency-Key."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer, UnverifiedContact
from orders.api import ResultSerializer, results_data
from orders.models import Order, OrderStatusChange
from orders.services import UpsertResult
from shop.models import IdempotencyKey
from shop.roles import Capability, Role

ORDERS = reverse("api:orders_upsert")


def order(external_id: str = "100", status: str = "paid", phone: str = "8 (999) 123-45-67", **extra: object) -> dict:
    return {
        "source": "site",
        "external_id": external_id,
        "status": status,
        "placed_at": "2026-11-20T14:05:00+03:00",
        "total": "3490.00",
        "delivery_cost": "290.00",
        "items": [{"sku": "EL-002", "name": "Зарядное устройство", "price": "3200.00"}],
        "customer": {"name": "Анна Смирнова", "phones": [phone]},
        **extra,
    }


@pytest.fixture
def importer(api_client_for) -> APIClient:
    return api_client_for(Capability.IMPORT, sources=("site",))


@pytest.mark.django_db
def test_a_batch_creates_orders_and_their_customers(importer):
    batch = [order("1", phone="+79990000001"), order("2", phone="+79990000002"), order("3", phone="+79990000001")]
    response = importer.post(ORDERS, {"orders": batch}, format="json")
    assert response.status_code == 200, response.json()
    assert [r["created"] for r in response.json()["results"]] == [True, True, True]
    assert Order.objects.count() == 3
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_a_single_order_is_accepted_without_a_batch_wrapper(importer):
    response = importer.post(ORDERS, order(), format="json")
    assert response.status_code == 200
    stored = Order.objects.get()
    assert (stored.source, stored.external_id, str(stored.total), str(stored.subtotal)) == (
        "site",
        "100",
        "3490.00",
        "3200.00",
    )


@pytest.mark.django_db
def test_repeating_the_same_order_changes_nothing_and_a_late_older_status_is_stale(importer):
    importer.post(ORDERS, order(status="delivered"), format="json")
    again = importer.post(ORDERS, order(status="delivered"), format="json").json()["results"][0]
    late = importer.post(ORDERS, order(status="paid"), format="json").json()["results"][0]
    assert (again["created"], again["status_changed"]) == (False, False)
    assert late["stale"] is True
    assert Order.objects.get().status == "delivered"
    assert OrderStatusChange.objects.count() == 1


@pytest.mark.django_db
def test_float_amounts_are_refused_naming_the_row_and_field(importer):
    response = importer.post(ORDERS, {"orders": [order("1"), order("2", total=3490.5)]}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "total" in fields["orders"]["1"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_malformed_phone_never_refuses_the_order_it_is_kept_unverified_and_the_answer_says_so(importer):
    body = order("1", phone="555-555-SHIP")
    body["customer"]["emails"] = ["anna@example.com"]
    response = importer.post(ORDERS, {"orders": [body]}, format="json")

    assert response.status_code == 200, response.json()
    (result,) = response.json()["results"]
    assert result["created"] is True
    assert len(result["warnings"]) == 1
    assert result["warnings"][0].startswith("customer.phones: ") and "555-555-SHIP" in result["warnings"][0]
    stored = Order.objects.get()
    assert stored.customer.emails.get().address == "anna@example.com"
    assert not stored.customer.phones.exists()
    kept = stored.customer.unverified_contacts.get()
    assert (kept.kind, kept.raw, kept.source) == ("phone", "555-555-SHIP", "site")
    assert kept.reason


@pytest.mark.django_db
def test_an_order_whose_only_contact_is_unreadable_is_stored_and_a_repeat_keeps_the_value_once(importer):
    body = order("1", phone="555-555-SHIP")
    first = importer.post(ORDERS, body, format="json")
    again = importer.post(ORDERS, body, format="json")

    assert first.status_code == again.status_code == 200
    assert again.json()["results"][0]["warnings"]
    assert Order.objects.count() == 1
    assert list(UnverifiedContact.objects.values_list("raw", flat=True)) == ["555-555-SHIP"]


@pytest.mark.django_db
def test_a_good_order_has_no_warnings_and_keeps_nothing_unverified(importer):
    response = importer.post(ORDERS, order("1"), format="json")
    assert response.json()["results"][0]["warnings"] == []
    assert not UnverifiedContact.objects.exists()


@pytest.mark.django_db
def test_an_unknown_status_and_a_negative_price_are_refused(importer):
    bad_status = order("1", status="lost")
    negative = order("2")
    negative["items"][0]["price"] = "-5.00"
    response = importer.post(ORDERS, {"orders": [bad_status, negative]}, format="json")
    fields = response.json()["error"]["fields"]["orders"]
    assert "status" in fields["0"] and "items" in fields["1"]


@pytest.mark.django_db
def test_a_batch_over_a_thousand_is_refused(importer):
    response = importer.post(ORDERS, {"orders": [order(str(n)) for n in range(1001)]}, format="json")
    assert response.status_code == 400
    assert "1000" in response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("scope", [Capability.LOOKUP, Capability.QUOTE])
def test_tokens_without_the_import_scope_are_refused(api_client_for, scope):
    assert api_client_for(scope).post(ORDERS, order(), format="json").status_code == 403
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_operators_may_not_import_but_managers_may(client_for):
    assert client_for(Role.OPERATOR).post(ORDERS, order(), content_type="application/json").status_code == 403
    assert client_for(Role.MANAGER).post(ORDERS, order(), content_type="application/json").status_code == 200


@pytest.mark.django_db
def test_the_order_endpoint_shows_the_status_history(importer):
    importer.post(ORDERS, order(status="paid"), format="json")
    importer.post(ORDERS, order(status="delivered"), format="json")
    body = importer.get(reverse("api:order_detail", args=["site", "100"])).json()
    assert [(h["from"], h["to"]) for h in body["status_history"]] == [("", "paid"), ("paid", "delivered")]


@pytest.mark.django_db
def test_same_idempotency_key_and_body_replays_the_answer(importer):
    first = importer.post(ORDERS, order(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = importer.post(ORDERS, order(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert second.status_code == first.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert OrderStatusChange.objects.count() == 1


@pytest.mark.django_db
def test_same_idempotency_key_with_another_body_is_422(importer):
    importer.post(ORDERS, order(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    response = importer.post(ORDERS, order(status="shipped"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 422
    assert Order.objects.get().status == "paid"


@pytest.mark.django_db
def test_idempotency_key_still_in_flight_is_409(importer):
    importer.post(ORDERS, order(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    IdempotencyKey.objects.update(state=IdempotencyKey.State.IN_FLIGHT)
    assert importer.post(ORDERS, order(), format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 409


@pytest.mark.django_db
def test_a_refused_request_leaves_the_key_free_for_a_corrected_retry(importer):
    bad = importer.post(ORDERS, order(total=1.5), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400
    corrected = importer.post(ORDERS, order(total="1.50"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert corrected.status_code == 200
    assert Order.objects.get().total == Decimal("1.50")


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_through_the_api_leave_one_order_in_its_newest_status(api_client_for):
    client = api_client_for(Capability.IMPORT, sources=("site",))
    header = client._credentials["HTTP_AUTHORIZATION"]
    errors: list[BaseException] = []
    statuses = ["new", "paid", "shipped", "delivered"]

    def send(worker: int) -> None:
        local = APIClient()
        local.credentials(HTTP_AUTHORIZATION=header)
        try:
            for step in range(4):
                status = statuses[(worker + step) % 4]
                response = local.post(
                    ORDERS, {"orders": [order("X-1", status=status), order("X-2", status=status)]}, format="json"
                )
                assert response.status_code == 200, response.content
        except BaseException as error:  # re-raised in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(Order.objects.values_list("external_id", "status")) == [("X-1", "delivered"), ("X-2", "delivered")]
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_a_note_typed_into_the_phone_field_is_kept_aside_too(importer):
    note = "звонить после 18:00, спросить Анну, домофон не работает"
    response = importer.post(ORDERS, order("1", phone=note), format="json")

    assert response.status_code == 200, response.json()
    assert UnverifiedContact.objects.get().raw == note


def test_the_results_are_written_field_for_field_as_the_published_result_serializer_writes_them():
    results = [
        UpsertResult("site", "1", 7, created=True),
        UpsertResult("site", "2", 8, status_changed=True, warnings=["customer.phones: unreadable."]),
        UpsertResult("site", "3", 9, stale=True),
        UpsertResult("site", "4", None, error="An order that is “delivered” cannot become “cancelled”."),
    ]
    assert results_data(results) == ResultSerializer(results, many=True).data
