"""``POST /api/v1/webhooks/<source>``: signed order webhooks from shop platforms."""

import hashlib
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api import OrderInputSerializer, ResultSerializer, results_data
from orders.models import WebhookEvent, WebhookSource
from orders.services import UpsertResult
from orders.webhooks.formats import PARSERS, Delivery, PayloadError, check_fresh
from orders.webhooks.services import ReplayError, webhook_deliver, webhook_event_stored
from shop.api_batch import source_refusal, validate_rows
from shop.signing import SignatureError


def _error(status: int, code: str, message: str, fields: Any = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status)


def _render(results: list[UpsertResult]) -> dict[str, Any]:
    return {"results": results_data(results)}


def _repeat(event: WebhookEvent, digest: str) -> Response:
    """A delivery of an event already stored: the same body is a platform retrying (it did not hear our answer), so
    it hears it again and nothing changes; another body under a used event id is refused."""
    if event.body_sha256 and event.body_sha256 != digest:
        return _error(401, "replayed", f"Event {event.event_id} was delivered before with another body.")
    response = Response(event.response or {"results": []})
    response["Webhook-Repeated"] = "true"
    return response


class WebhookApi(APIView):
    # The signature is the authentication: platforms send no token.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="A signed order webhook from a shop platform",
        description=(
            "See docs/webhooks.md for the generic format and the Shopify mapping, and how to sign. The body must be "
            "`application/json`. A repeat of an event already stored (same id, same body) is answered 200 with the "
            "first answer and changes nothing."
        ),
        request=None,
        responses={
            200: ResultSerializer(many=True),
            400: OpenApiResponse(description="signed, but the body cannot be read or an order is invalid"),
            401: OpenApiResponse(
                description="forged, stale, or an event id reused with another body: nothing is stored"
            ),
            403: OpenApiResponse(description="an order names another source than this webhook's"),
            415: OpenApiResponse(description="the body is not application/json"),
        },
        auth=[],
    )
    def post(self, request: Request, slug: str) -> Response:
        source = get_object_or_404(WebhookSource, slug=slug, is_active=True)
        if request.content_type.split(";")[0].strip().lower() != "application/json":
            return _error(415, "unsupported_media_type", "Send the body with Content-Type: application/json.")
        body = request.body  # the exact bytes the signature covers
        try:
            delivery = PARSERS[source.kind](source, body, request.headers)
        except SignatureError as error:
            return _error(401, "bad_signature", str(error))
        except PayloadError as error:
            return _error(400, "invalid", str(error))
        digest = hashlib.sha256(body).hexdigest()
        stored = webhook_event_stored(source=source, event_id=delivery.event_id)
        if stored is not None:
            return _repeat(stored, digest)
        try:
            check_fresh(delivery)
        except SignatureError as error:
            return _error(401, "bad_signature", str(error))
        return self._deliver(source, delivery, digest)

    def _deliver(self, source: WebhookSource, delivery: Delivery, digest: str) -> Response:
        try:
            valid = validate_rows(OrderInputSerializer, delivery.orders, "orders")
        except serializers.ValidationError as error:
            return _error(400, "invalid", "The order in the delivery is invalid.", error.detail)
        for index, attrs in enumerate(valid):
            if attrs.get("source") and attrs["source"] != source.slug:
                refusal = source_refusal(attrs["source"], [source.slug], "orders", str(index))
                return _error(403, "source_forbidden", "An order names another source.", refusal.detail)
        orders = [OrderInputSerializer.to_data(attrs, source.slug) for attrs in valid]
        try:
            answer = webhook_deliver(
                source=source,
                event_id=delivery.event_id,
                topic=delivery.topic,
                body_sha256=digest,
                orders=orders,
                render=_render,
            )
        except ReplayError:
            # A concurrent delivery of the same event committed first: answer as its repeat.
            stored = webhook_event_stored(source=source, event_id=delivery.event_id)
            assert stored is not None
            return _repeat(stored, digest)
        return Response(answer)
