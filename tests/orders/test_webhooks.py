"""Signed order webhooks: our generic format and Shopify's; forged, stale and replayed deliveries store nothing."""

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from orders.models import Order, WebhookEvent, WebhookKind
from orders.webhooks.services import webhook_source_create, webhook_source_rotate
from shop.roles import Role


def order_payload(external_id: str = "W-1", status: str = "paid") -> dict:
    return {
        "external_id": external_id,
        "status": status,
        "placed_at": "2026-11-20T10:00:00+03:00",
        "total": "1990.00",
        "items": [{"name": "Плед", "price": "1990.00"}],
        "customer": {"name": "Ольга Иванова", "phones": ["+7 999 765-43-21"]},
    }


def post_generic(client, source, event_id: str, data: dict, secret: str | None = None, age: int = 0):
    body = json.dumps({"id": event_id, "type": "order.updated", "data": data}).encode()
    stamp = str(int(time.time()) - age)
    signature = hmac.new((secret or source.secret).encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return client.post(
        reverse("api:webhook", args=[source.slug]),
        data=body,
        content_type="application/json",
        HTTP_X_RETAIN_TIMESTAMP=stamp,
        HTTP_X_RETAIN_SIGNATURE=f"sha256={signature}",
    )


@pytest.fixture
def generic(db):
    return webhook_source_create(name="Сайт", slug="site", kind=WebhookKind.GENERIC)


@pytest.mark.django_db
def test_a_signed_delivery_stores_the_order(client, generic):
    response = post_generic(client, generic, "evt-1", order_payload())
    assert response.status_code == 200, response.content
    order = Order.objects.get()
    assert (order.source, order.external_id, order.status) == ("site", "W-1", "paid")


@pytest.mark.django_db
@pytest.mark.parametrize(("secret", "age"), [("forged", 0), (None, 600)], ids=["forged", "stale"])
def test_forged_or_stale_deliveries_are_refused_and_store_nothing(client, generic, secret, age):
    response = post_generic(client, generic, "evt-1", order_payload(), secret=secret, age=age)
    assert response.status_code == 401
    assert not Order.objects.exists() and not WebhookEvent.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db
def test_a_replayed_event_is_refused_and_changes_nothing(client, generic):
    post_generic(client, generic, "evt-1", order_payload(status="paid"))
    replay = post_generic(client, generic, "evt-1", order_payload(status="delivered"))
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "replayed"
    assert Order.objects.get().status == "paid"
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_an_invalid_order_in_a_signed_delivery_is_400_and_stores_no_event(client, generic):
    bad = order_payload()
    bad["total"] = "-1.00"
    response = post_generic(client, generic, "evt-9", bad)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists() and not Order.objects.exists()


@pytest.mark.django_db
def test_a_rotated_secret_refuses_the_old_one(client, generic):
    old = generic.secret
    webhook_source_rotate(source=generic)
    assert post_generic(client, generic, "evt-1", order_payload(), secret=old).status_code == 401


@pytest.mark.django_db
def test_an_out_of_order_delivery_never_moves_the_order_back(client, generic):
    post_generic(client, generic, "evt-2", order_payload(status="delivered"))
    late = post_generic(client, generic, "evt-1", order_payload(status="paid"))
    assert late.status_code == 200 and late.json()["results"][0]["stale"] is True
    assert Order.objects.get().status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_deliveries_leave_one_order_in_its_newest_status():
    source = webhook_source_create(name="Сайт", slug="site", kind=WebhookKind.GENERIC)
    statuses = ["new", "paid", "shipped", "delivered"]
    errors: list[BaseException] = []

    def deliver(worker: int) -> None:
        try:
            for step in range(4):
                status = statuses[(worker + step) % 4]
                response = post_generic(Client(), source, f"evt-{worker}-{step}", order_payload(status=status))
                assert response.status_code == 200, response.content
                # The same event again, as a platform retrying a timeout would: answered again, changing nothing.
                assert (
                    post_generic(Client(), source, f"evt-{worker}-{step}", order_payload(status=status)).status_code
                    == 200
                )
        except BaseException as error:  # re-raised in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert list(Order.objects.values_list("status", flat=True)) == ["delivered"]
    assert WebhookEvent.objects.count() == 24


SHOPIFY_ORDER = {
    "id": 820982911946154508,
    "created_at": "2026-11-20T12:00:00+03:00",
    "currency": "RUB",
    "total_price": "3299.00",
    "subtotal_price": "3000.00",
    "total_discounts": "0.00",
    "financial_status": "paid",
    "fulfillment_status": "fulfilled",
    "fulfillments": [{"shipment_status": "delivered"}],
    "shipping_lines": [{"price": "299.00"}],
    "discount_codes": [],
    "line_items": [{"sku": "HM-003", "title": "Чайник", "quantity": 2, "price": "1500.00"}],
    "customer": {
        "id": 115310627314723954,
        "first_name": "Игорь",
        "last_name": "Орлов",
        "email": "Igor@Example.com",
        "phone": "+79161234567",
        "accepts_marketing": True,
    },
    "shipping_address": {"city": "Казань", "address1": "ул. Баумана, 1", "phone": "+79161234567"},
}


def post_shopify(
    client, source, payload: dict, webhook_id: str = "b54557e4", secret: str | None = None, triggered=None
):
    body = json.dumps(payload).encode()
    digest = hmac.new((secret or source.secret).encode(), body, hashlib.sha256).digest()
    return client.post(
        reverse("api:webhook", args=[source.slug]),
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=base64.b64encode(digest).decode(),
        HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
        HTTP_X_SHOPIFY_TOPIC="orders/updated",
        HTTP_X_SHOPIFY_TRIGGERED_AT=(triggered or timezone.now()).isoformat(),
    )


@pytest.mark.django_db
def test_a_shopify_order_maps_to_our_order_and_customer(client):
    source = webhook_source_create(name="Shopify", slug="shopify", kind=WebhookKind.SHOPIFY)
    response = post_shopify(client, source, SHOPIFY_ORDER)
    assert response.status_code == 200, response.content
    order = Order.objects.get()
    assert (order.external_id, order.status, str(order.total), str(order.delivery_cost)) == (
        "820982911946154508",
        "delivered",
        "3299.00",
        "299.00",
    )
    assert order.items.get().quantity == 2
    customer = order.customer
    assert (customer.name, customer.city, customer.email_consent) == ("Игорь Орлов", "Казань", True)
    assert list(customer.emails.values_list("address", flat=True)) == ["igor@example.com"]


@pytest.mark.django_db
def test_a_cancelled_shopify_order_is_cancelled(client):
    source = webhook_source_create(name="Shopify", slug="shopify", kind=WebhookKind.SHOPIFY)
    cancelled = {
        **SHOPIFY_ORDER,
        "cancelled_at": "2026-11-20T13:00:00+03:00",
        "fulfillments": [],
        "fulfillment_status": None,
    }
    post_shopify(client, source, cancelled)
    assert Order.objects.get().status == "cancelled"


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["forged", "stale", "replayed"])
def test_shopify_forged_stale_or_replayed_deliveries_store_nothing_new(client, case):
    source = webhook_source_create(name="Shopify", slug="shopify", kind=WebhookKind.SHOPIFY)
    if case == "replayed":
        post_shopify(client, source, SHOPIFY_ORDER)
    before = (Order.objects.count(), WebhookEvent.objects.count())
    response = post_shopify(
        client,
        source,
        {**SHOPIFY_ORDER, "id": 1},
        secret="forged" if case == "forged" else None,
        triggered=timezone.now() - timedelta(minutes=10) if case == "stale" else None,
    )
    assert response.status_code == 401
    assert (Order.objects.count(), WebhookEvent.objects.count()) == before


@pytest.mark.django_db
def test_a_switched_off_source_answers_404(client, generic):
    generic.is_active = False
    generic.save()
    assert post_generic(client, generic, "evt-1", order_payload()).status_code == 404


@pytest.mark.django_db
def test_the_owner_creates_a_source_and_sees_its_secret_once(client_for):
    owner = client_for(Role.OWNER)
    page = owner.post(reverse("webhooks:sources"), {"name": "Сайт", "slug": "site", "kind": "generic"})
    assert 'data-testid="webhook-secret"' in page.content.decode()
    assert 'data-testid="webhook-secret"' not in owner.get(reverse("webhooks:sources")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR])
def test_only_the_owner_manages_webhook_sources(client_for, role):
    assert client_for(role).get(reverse("webhooks:sources")).status_code == 403
