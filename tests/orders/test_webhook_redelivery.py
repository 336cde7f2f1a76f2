"""What a platform needs from a webhook endpoint to keep its subscription: a repeat of an event already stored is
answered 200 (not 401), only JSON is taken, an older payload never moves an order back, a bad contact never refuses
an order, and a webhook writes only its own source."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import UnverifiedContact
from orders.models import Order, OrderStatusChange, WebhookEvent, WebhookKind
from orders.webhooks.services import webhook_source_create
from tests.factories import CustomerFactory
from tests.orders.test_webhooks import SHOPIFY_ORDER, order_payload, post_generic, post_shopify


@pytest.fixture
def generic(db):
    return webhook_source_create(name="Сайт", slug="site", kind=WebhookKind.GENERIC)


@pytest.fixture
def shopify(db):
    return webhook_source_create(name="Shopify", slug="shopify", kind=WebhookKind.SHOPIFY)


@pytest.mark.django_db
def test_a_repeated_event_is_answered_200_with_the_first_answer_and_changes_nothing(client, generic):
    first = post_generic(client, generic, "evt-1", order_payload(status="paid"))
    again = post_generic(client, generic, "evt-1", order_payload(status="paid"))

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Webhook-Repeated"] == "true"
    assert (Order.objects.count(), WebhookEvent.objects.count(), OrderStatusChange.objects.count()) == (1, 1, 1)


@pytest.mark.django_db
def test_a_repeat_of_a_shopify_event_after_the_signature_window_is_still_answered_200(client, shopify):
    post_shopify(client, shopify, SHOPIFY_ORDER, webhook_id="w-1")
    late = post_shopify(client, shopify, SHOPIFY_ORDER, webhook_id="w-1", triggered=timezone.now() - timedelta(hours=2))

    assert late.status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_stored_event_id_with_another_body_or_a_forged_signature_is_still_refused(client, generic):
    post_generic(client, generic, "evt-1", order_payload(status="paid"))
    altered = post_generic(client, generic, "evt-1", order_payload(status="cancelled"))
    forged = post_generic(client, generic, "evt-1", order_payload(status="paid"), secret="forged")

    assert (altered.status_code, altered.json()["error"]["code"]) == (401, "replayed")
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "bad_signature")
    assert Order.objects.get().status == "paid"


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_correctly_signed_delivery_that_is_not_json_is_415_and_stores_nothing(client, generic, content_type):
    body = json.dumps({"id": "evt-1", "type": "order.updated", "data": order_payload()}).encode()
    stamp = str(int(timezone.now().timestamp()))
    signature = hmac.new(generic.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    response = client.post(
        reverse("api:webhook", args=[generic.slug]),
        data=body,
        content_type=content_type,
        HTTP_X_RETAIN_TIMESTAMP=stamp,
        HTTP_X_RETAIN_SIGNATURE=f"sha256={signature}",
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Order.objects.exists() and not WebhookEvent.objects.exists()


def _shopify_at(updated_at: str, **changes: object) -> dict:
    return {**SHOPIFY_ORDER, "updated_at": updated_at, **changes}


@pytest.mark.django_db
def test_a_captured_older_shopify_body_sent_with_fresh_headers_does_not_move_the_order_back(client, shopify):
    cancelled = _shopify_at(
        "2026-11-21T09:00:00+03:00", cancelled_at="2026-11-21T09:00:00+03:00", fulfillments=[], fulfillment_status=None
    )
    older_paid = _shopify_at("2026-11-20T12:00:00+03:00", fulfillments=[], fulfillment_status=None)
    older_paid["total_price"] = "1.00"
    post_shopify(
        client,
        shopify,
        _shopify_at("2026-11-20T12:00:00+03:00", fulfillments=[], fulfillment_status=None),
        webhook_id="w-1",
    )
    post_shopify(client, shopify, cancelled, webhook_id="w-2")

    replayed = post_shopify(client, shopify, older_paid, webhook_id="w-3")  # a fresh id and time, an old body

    assert replayed.status_code == 200 and replayed.json()["results"][0]["stale"] is True
    order = Order.objects.get()
    assert (order.status, str(order.total)) == ("cancelled", "3299.00")
    assert order.source_updated_at is not None
    assert order.source_updated_at.isoformat() == "2026-11-21T06:00:00+00:00"


@pytest.mark.django_db
def test_an_older_payload_of_the_same_status_does_not_overwrite_newer_amounts(client, generic):
    newer = order_payload(status="paid") | {"updated_at": "2026-11-21T10:00:00+03:00", "total": "2500.00"}
    older = order_payload(status="paid") | {"updated_at": "2026-11-21T09:00:00+03:00", "total": "1990.00"}
    post_generic(client, generic, "evt-2", newer)

    late = post_generic(client, generic, "evt-1", older)

    assert late.json()["results"][0]["stale"] is True
    assert str(Order.objects.get().total) == "2500.00"


@pytest.mark.django_db
def test_a_newer_payload_is_taken(client, generic):
    post_generic(client, generic, "evt-1", order_payload(status="paid") | {"updated_at": "2026-11-21T09:00:00+03:00"})
    newer = order_payload(status="paid") | {"updated_at": "2026-11-21T10:00:00+03:00", "total": "2500.00"}

    assert post_generic(client, generic, "evt-2", newer).json()["results"][0]["stale"] is False
    assert str(Order.objects.get().total) == "2500.00"


@pytest.mark.django_db
def test_a_shopify_order_with_an_unreadable_shipping_phone_is_stored_with_a_warning(client, shopify):
    shipping = dict(SHOPIFY_ORDER["shipping_address"])  # type: ignore[call-overload]
    payload = {**SHOPIFY_ORDER, "shipping_address": {**shipping, "phone": "555-555-SHIP"}}
    response = post_shopify(client, shopify, payload)

    assert response.status_code == 200, response.content
    warnings = response.json()["results"][0]["warnings"]
    assert len(warnings) == 1 and "555-555-SHIP" in warnings[0]
    order = Order.objects.get()
    assert list(order.customer.phones.values_list("number", flat=True)) == ["+79161234567"]
    assert UnverifiedContact.objects.get().customer == order.customer


@pytest.mark.django_db
def test_a_webhook_cannot_write_another_sources_order(client, generic):
    theirs = Order.objects.create(
        source="ozon", external_id="W-1", customer=CustomerFactory.create(), placed_at="2026-11-01T10:00Z"
    )
    response = post_generic(client, generic, "evt-1", order_payload(status="cancelled") | {"source": "ozon"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "source_forbidden"
    assert "ozon" in response.json()["error"]["fields"]["orders"]["0"]["source"][0]
    theirs.refresh_from_db()
    assert theirs.status == "new" and not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_webhook_refuses_an_unknown_currency_naming_the_field(client, generic):
    response = post_generic(client, generic, "evt-1", order_payload() | {"currency": "XYZ"})

    assert response.status_code == 400
    assert "XYZ" in response.json()["error"]["fields"]["orders"]["0"]["currency"][0]
    assert not Order.objects.exists() and not WebhookEvent.objects.exists()
