"""Webhook formats: verify a delivery's signature and turn its body into rows of our API's order shape.

Both formats are checked over the raw body before anything is parsed. A delivery whose signature or event id does
not hold is refused (401) before anything is stored; its time is checked by :func:`check_fresh` once the view knows
whether the event is a repeat of one already stored (which is answered again, whenever it comes).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from orders.models import WebhookKind, WebhookSource
from shop.input_hygiene import JsonInputError, json_loads_checked
from shop.signing import SignatureError, hmac_base64, verify_signature, verify_timestamped_signature

TOLERANCE = timedelta(minutes=5)


class PayloadError(ValueError):
    """A verified delivery whose body we cannot read; the message says what is wrong."""


@dataclass(frozen=True)
class Delivery:
    event_id: str
    topic: str
    orders: list[dict[str, Any]]
    sent_at: datetime  # the signed (generic) or declared (Shopify) moment of sending


def check_fresh(delivery: Delivery, now: datetime | None = None) -> None:
    """A new event sent longer than :data:`TOLERANCE` from now is refused: a captured delivery cannot be sent again
    later under its old signature."""
    if abs((now or timezone.now()) - delivery.sent_at) > TOLERANCE:
        minutes = int(TOLERANCE.total_seconds() // 60)
        raise SignatureError(f"The delivery is stale: it was sent more than {minutes} minutes from now.")


def _json(body: bytes) -> Any:
    try:
        return json_loads_checked(body)
    except JsonInputError as error:
        raise PayloadError(f"The body is not acceptable JSON. {error}") from error


def parse_generic(source: WebhookSource, body: bytes, headers: Any) -> Delivery:
    """Our own format: ``{"id", "type": "order.created" | "order.updated", "data": <order as in POST /orders>}``,
    signed like the telephony webhook: ``X-Retain-Timestamp`` and ``X-Retain-Signature: sha256=<hex>`` over
    ``"{timestamp}.{raw body}"``."""
    timestamp = headers.get("X-Retain-Timestamp", "")
    verify_timestamped_signature(
        secret=source.secret,
        body=body,
        timestamp=timestamp,
        signature=headers.get("X-Retain-Signature", ""),
        tolerance_seconds=None,
    )
    payload = _json(body)
    if not isinstance(payload, dict) or not payload.get("id") or not isinstance(payload.get("data"), dict):
        raise PayloadError("A delivery needs an “id” and a “data” object.")
    topic = str(payload.get("type", ""))
    if topic not in {"order.created", "order.updated"}:
        raise PayloadError("“type” must be order.created or order.updated.")
    sent_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    return Delivery(event_id=str(payload["id"])[:120], topic=topic, orders=[payload["data"]], sent_at=sent_at)


SHOPIFY_TOPICS = {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"}


def parse_shopify(source: WebhookSource, body: bytes, headers: Any) -> Delivery:
    """Shopify's order webhooks: ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw body,
    ``X-Shopify-Webhook-Id`` identifies the delivery, ``X-Shopify-Triggered-At`` dates it."""
    verify_signature(expected=hmac_base64(source.secret, body), given=headers.get("X-Shopify-Hmac-Sha256", ""))
    triggered = parse_datetime(headers.get("X-Shopify-Triggered-At", "") or "")
    if triggered is None or triggered.tzinfo is None:
        raise SignatureError("X-Shopify-Triggered-At is missing or not an ISO time with a zone.")
    event_id = headers.get("X-Shopify-Webhook-Id", "")
    if not event_id:
        raise SignatureError("X-Shopify-Webhook-Id is missing.")
    topic = headers.get("X-Shopify-Topic", "")
    if topic not in SHOPIFY_TOPICS:
        raise PayloadError(f"Topic “{topic}” is not an order topic this endpoint takes.")
    payload = _json(body)
    if not isinstance(payload, dict):
        raise PayloadError("The body must be a JSON object.")
    orders = [shopify_order(payload, source.slug)]
    return Delivery(event_id=event_id[:120], topic=topic, orders=orders, sent_at=triggered)


def _amount(value: Any) -> str:
    try:
        return str(Decimal(str(value or "0")).quantize(Decimal("0.01")))
    except InvalidOperation as error:
        raise PayloadError(f"“{value}” is not an amount.") from error


def shopify_status(order: dict[str, Any]) -> str:
    """Shopify keeps payment, fulfilment and cancellation apart; our pipeline is one status."""
    if order.get("cancelled_at"):
        return "cancelled"
    shipments = {f.get("shipment_status") for f in order.get("fulfillments") or [] if isinstance(f, dict)}
    if "delivered" in shipments:
        return "returned" if order.get("financial_status") == "refunded" else "delivered"
    if order.get("fulfillment_status") == "fulfilled":
        return "shipped"
    if order.get("financial_status") in {"paid", "partially_refunded"}:
        return "paid"
    return "new"


@dataclass(frozen=True)
class _Shopify:
    """A Shopify order and the two objects inside it that our fields are read from."""

    order: dict[str, Any]

    @property
    def customer(self) -> dict[str, Any]:
        return self.order["customer"] if isinstance(self.order.get("customer"), dict) else {}

    @property
    def shipping(self) -> dict[str, Any]:
        return self.order["shipping_address"] if isinstance(self.order.get("shipping_address"), dict) else {}


def _distinct(*values: Any) -> list[Any]:
    return list(dict.fromkeys(value for value in values if value))


def _shipping_total(order: dict[str, Any]) -> str:
    lines = order.get("shipping_lines") or []
    return str(sum((Decimal(_amount(line.get("price"))) for line in lines), Decimal(0)).quantize(Decimal("0.01")))


# Our API's order field → how it is read from Shopify's order. Amounts are read first, in this order, so the first
# bad amount is the one the error names.
SHOPIFY_ORDER_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "delivery_cost": _shipping_total,
    "external_id": lambda order: str(order.get("id", "")),
    "status": shopify_status,
    "placed_at": lambda order: order.get("created_at"),
    "updated_at": lambda order: order.get("updated_at"),
    "currency": lambda order: order.get("currency") or "",
    "subtotal": lambda order: _amount(order.get("subtotal_price")),
    "discount_total": lambda order: _amount(order.get("total_discounts")),
    "total": lambda order: _amount(order.get("total_price")),
    "promo_code": lambda order: ",".join(str(c.get("code", "")) for c in order.get("discount_codes") or [])[:60],
}
SHOPIFY_ITEM_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "sku": lambda line: str(line.get("sku") or "")[:80],
    "name": lambda line: str(line.get("title") or line.get("name") or "—")[:255],
    "quantity": lambda line: str(line.get("quantity") or 1),
    "price": lambda line: _amount(line.get("price")),
}
# Our customer field (as in ``CustomerData``) → how it is read from the order's customer and shipping address.
SHOPIFY_CUSTOMER_FIELDS: dict[str, Callable[[_Shopify], Any]] = {
    "external_id": lambda s: str(s.customer.get("id") or ""),
    "name": lambda s: " ".join(part for part in (s.customer.get("first_name"), s.customer.get("last_name")) if part),
    "phones": lambda s: _distinct(s.customer.get("phone"), s.order.get("phone"), s.shipping.get("phone")),
    "emails": lambda s: _distinct(s.customer.get("email"), s.order.get("email")),
    "city": lambda s: str(s.shipping.get("city") or ""),
    "address": lambda s: ", ".join(
        str(s.shipping.get(key)) for key in ("address1", "address2", "zip") if s.shipping.get(key)
    ),
    "email_consent": lambda s: bool(s.customer.get("accepts_marketing")) if "accepts_marketing" in s.customer else None,
}


def shopify_order(order: dict[str, Any], source: str) -> dict[str, Any]:
    """A Shopify order as a row of our API, field by field from the tables above: the same validation applies."""
    row = {name: read(order) for name, read in SHOPIFY_ORDER_FIELDS.items()}
    row["items"] = [
        {name: read(line) for name, read in SHOPIFY_ITEM_FIELDS.items()} for line in order.get("line_items") or []
    ]
    view = _Shopify(order)
    row["customer"] = {name: read(view) for name, read in SHOPIFY_CUSTOMER_FIELDS.items()}
    return {"source": source, **row}


PARSERS: dict[str, Callable[[WebhookSource, bytes, Any], Delivery]] = {
    WebhookKind.GENERIC: parse_generic,
    WebhookKind.SHOPIFY: parse_shopify,
}
