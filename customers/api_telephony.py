"""The incoming-call webhook: the telephony tells us a phone is ringing, was answered or hung up."""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.calls import call_event_apply
from customers.telephony import EventFormatError, TelephonyNotConfigured, parse_generic, parse_zadarma
from shop.signing import SignatureError

_Result = inline_serializer(
    "TelephonyEventResult",
    {
        "call_id": serializers.IntegerField(),
        "state": serializers.CharField(),
        "customer_id": serializers.IntegerField(),
    },
)


def _error(status: int, code: str, message: str) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": {}}}, status=status)


SWITCHED_OFF = OpenApiResponse(description="switched off: its secret is not set in the environment")


class _TelephonyApi(APIView):
    # The HMAC signature is the authentication: a PBX has no token and no session.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    def _apply(self, parse: Any) -> Response:
        try:
            data = parse()
        except TelephonyNotConfigured as error:
            return _error(503, "not_configured", str(error))
        except SignatureError as error:
            return _error(401, "bad_signature", str(error))
        except EventFormatError as error:
            return _error(400, "invalid", str(error))
        call = call_event_apply(data=data)
        return Response({"call_id": call.pk, "state": call.state, "customer_id": call.customer_id})


class TelephonyEventApi(_TelephonyApi):
    @extend_schema(
        summary="An incoming-call event (generic format)",
        description=(
            "JSON `{event: ringing|answered|hangup, call_id, caller, direction?: in|out, extension?, operator?, at?}`, "
            "signed: `X-Retain-Timestamp: <unix seconds>` and `X-Retain-Signature: sha256=<hex HMAC-SHA256 of "
            '"{timestamp}.{raw body}" with TELEPHONY_WEBHOOK_SECRET>`. A ringing event shows the caller\'s card on '
            "the console of the operator with that extension or username."
        ),
        request=inline_serializer(
            "TelephonyEvent",
            {
                "event": serializers.ChoiceField(choices=["ringing", "answered", "hangup"]),
                "call_id": serializers.CharField(),
                "caller": serializers.CharField(),
                "direction": serializers.ChoiceField(choices=["in", "out"], required=False),
                "extension": serializers.CharField(required=False),
                "operator": serializers.CharField(required=False),
                "at": serializers.DateTimeField(required=False),
            },
        ),
        responses={
            200: _Result,
            400: OpenApiResponse(description="unreadable event"),
            401: OpenApiResponse(description="forged or stale signature"),
            503: SWITCHED_OFF,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        body = request.body  # the raw bytes the signature covers, before any parsing
        return self._apply(lambda: parse_generic(body=body, headers=request.headers))


class ZadarmaEventApi(_TelephonyApi):
    @extend_schema(
        summary="An incoming-call event from Zadarma (NOTIFY_* form posts)",
        description="Signed by the PBX: `Signature: base64(HMAC-SHA1(ZADARMA_API_SECRET, fields))`. See docs/telephony.md.",
        parameters=[OpenApiParameter("zd_echo", str, description="The PBX's address check, answered as sent.")],
        request=None,
        responses={200: _Result, 401: OpenApiResponse(description="forged signature"), 503: SWITCHED_OFF},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        return self._apply(lambda: parse_zadarma(form=request.POST, headers=request.headers))

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        # The PBX checks the address by asking us to echo a value back, as plain text.
        return HttpResponse(request.GET.get("zd_echo", ""), content_type="text/plain")
