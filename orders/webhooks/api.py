"""``POST /api/v1/webhooks/<source>``: signed order webhooks from shop platforms."""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api import OrderInputSerializer, ResultSerializer
from orders.models import WebhookSource
from orders.webhooks.formats import PARSERS, PayloadError
from orders.webhooks.services import ReplayError, webhook_deliver
from shop.api_batch import validate_rows
from shop.signing import SignatureError


def _error(status: int, code: str, message: str, fields: Any = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status)


class WebhookApi(APIView):
    # The signature is the authentication: platforms send no token.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="A signed order webhook from a shop platform",
        description="See docs/webhooks.md for the generic format and the Shopify mapping, and how to sign.",
        request=None,
        responses={
            200: ResultSerializer(many=True),
            400: OpenApiResponse(description="signed, but the body cannot be read"),
            401: OpenApiResponse(description="forged, stale or replayed: nothing is stored"),
        },
        auth=[],
    )
    def post(self, request: Request, slug: str) -> Response:
        source = get_object_or_404(WebhookSource, slug=slug, is_active=True)
        body = request.body  # the exact bytes the signature covers
        try:
            delivery = PARSERS[source.kind](source, body, request.headers)
        except SignatureError as error:
            return _error(401, "bad_signature", str(error))
        except PayloadError as error:
            return _error(400, "invalid", str(error))
        try:
            valid = validate_rows(OrderInputSerializer, delivery.orders, "orders")
        except serializers.ValidationError as error:
            return _error(400, "invalid", "The order in the delivery is invalid.", error.detail)
        orders = [OrderInputSerializer().to_data(attrs, source.slug) for attrs in valid]
        try:
            results = webhook_deliver(source=source, event_id=delivery.event_id, topic=delivery.topic, orders=orders)
        except ReplayError as error:
            return _error(401, "replayed", str(error))
        return Response({"results": ResultSerializer(results, many=True).data})
