"""API endpoints composed at the top: the caller lookup reads customers, orders, scores, feedback and loyalty in one
query (:func:`crm.call.card.caller_card_for_number`)."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.call.access import card_url
from crm.call.card import CallerCard, caller_card_for_number, lookup_number
from shop.audit import audit_record, card_opening_allowed
from shop.models import AuditKind, AuditReason, IntegrationToken, ShopSettings, User
from shop.permissions import HasCapability, user_can
from shop.phones import PhoneError
from shop.ratelimit import TokenLookupThrottle
from shop.roles import Capability


class CallerLookupApi(APIView):
    """Who is calling: the card an operator needs when the phone rings."""

    permission_classes = [HasCapability]
    throttle_classes = [TokenLookupThrottle]
    capability = Capability.LOOKUP

    class OfferSerializer(serializers.Serializer):
        code = serializers.CharField()
        title = serializers.CharField()
        reason = serializers.CharField()
        value = serializers.CharField(help_text="What the offer is worth: “10%”, “500 ₽”; empty for a perk.")
        rule = serializers.CharField(help_text="The loyalty rule that gives it; empty for credit and coupons.")

    class OrderSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        external_id = serializers.CharField()
        status = serializers.CharField()
        placed_at = serializers.DateTimeField()
        total = serializers.DecimalField(max_digits=14, decimal_places=2)

    class OutputSerializer(serializers.Serializer):
        customer_id = serializers.IntegerField()
        name = serializers.CharField()
        phone = serializers.CharField()
        card_url = serializers.CharField()
        importance = serializers.IntegerField(allow_null=True)
        tier = serializers.CharField(allow_null=True)
        churn_risk = serializers.FloatField(allow_null=True)
        segment = serializers.CharField(allow_null=True)
        predicted_clv = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
        explanation = serializers.CharField()
        orders_count = serializers.IntegerField()
        total_spent = serializers.DecimalField(max_digits=14, decimal_places=2)
        currency = serializers.CharField()
        last_order = serializers.DictField(allow_null=True)
        complaints = serializers.ListField(child=serializers.DictField())
        offers = serializers.ListField(child=serializers.DictField())
        recommended_action = serializers.CharField()

    @extend_schema(
        summary="Look up a caller by phone number",
        parameters=[
            OpenApiParameter(
                "phone",
                str,
                required=True,
                description="Any format: “8 (999) 123-45-67”, “+7 999 1234567”, “79991234567”.",
            )
        ],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="The number cannot be read; the message says why."),
            404: OpenApiResponse(description="No customer has this number; `fields.phone` carries it normalised."),
            429: OpenApiResponse(
                description="The token's lookups per second (10 unless the owner set another) or an operator's "
                "hourly card limit are used up; `Retry-After` says how many seconds to wait."
            ),
        },
        examples=[
            OpenApiExample(
                "Unknown number",
                status_codes=["404"],
                response_only=True,
                value={
                    "error": {
                        "code": "not_found",
                        "message": "No customer has the number +79991234567.",
                        "fields": {"phone": "+79991234567"},
                    }
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("phone", "")
        shop = ShopSettings.load()  # once: the number's region and the card's currency
        try:
            number = lookup_number(raw, shop)
        except PhoneError as error:
            return Response(
                {"error": {"code": "invalid_phone", "message": str(error), "fields": {"phone": [str(error)]}}},
                status=400,
            )
        card = caller_card_for_number(number, shop=shop)
        customer_id = card.customer.pk if card is not None else None
        token = request.auth if isinstance(request.auth, IntegrationToken) else None
        user = None if token is not None else request.user
        # An operator's session reads the same cards as the console, under the same hourly limit.
        if (
            isinstance(user, User)
            and not user_can(user, Capability.BROWSE)
            and not card_opening_allowed(user=user, request=request, customer_id=customer_id)
        ):
            raise Throttled(wait=3600, detail=_("Your hourly limit of customer cards is used up."))
        audit_record(
            kind=AuditKind.LOOKUP,
            token=token,
            user=user,
            customer_id=customer_id,
            reason=AuditReason.API,
            request=request,
            detail={} if card is not None else {"found": False},
        )
        if card is None:
            message = f"No customer has the number {number}."
            return Response(
                {"error": {"code": "not_found", "message": message, "fields": {"phone": number}}}, status=404
            )
        return Response(_OUTPUT.to_representation(lookup_payload(card, number, user=user)))


# One serializer for every answer: a new one per request deep-copies its seventeen fields, a sixth of the lookup's
# own CPU; turning a payload into JSON types keeps no state between calls.
_OUTPUT = CallerLookupApi.OutputSerializer()


def lookup_payload(card: CallerCard, number: str, user: Any = None) -> dict[str, Any]:
    """The lookup's answer. ``card_url`` is signed as a call for ``user`` (``None``: any operator, the link the
    telephony opens in the console's browser), so it opens the card for an operator too."""
    customer, score, last = card.customer, card.score, card.last_order
    return {
        "customer_id": customer.pk,
        "name": customer.display_name,
        "phone": number,
        "card_url": card_url(customer.pk, AuditReason.CALL, user),
        "importance": getattr(score, "importance", None),
        "tier": getattr(score, "tier", None),
        "churn_risk": getattr(score, "churn_risk", None),
        "segment": getattr(score, "segment", None),
        "predicted_clv": getattr(score, "predicted_clv", None),
        "explanation": getattr(score, "explanation", "") or "",
        "orders_count": customer.orders_count,
        "total_spent": customer.total_spent,
        "currency": card.currency,
        "last_order": None
        if last is None
        else {
            "id": last.pk,
            "external_id": last.external_id,
            "status": last.status,
            "placed_at": last.placed_at,
            "total": str(last.total),
        },
        "complaints": [dict(c) for c in card.complaints],
        "offers": [
            {"code": o.code, "title": o.title, "reason": o.reason, "value": o.value, "rule": o.rule}
            for o in card.offers
        ],
        "recommended_action": card.recommended_action,
    }
