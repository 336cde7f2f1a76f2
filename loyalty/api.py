"""Checkout API for the shop's platform: ``quote`` (what applies, changes nothing) and ``redeem`` (applies it to an
order, once per ``Idempotency-Key``). One class per operation, each with its input and output serializers."""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.contacts import EmailError
from loyalty.engine.evaluate import Cart, CartLine
from loyalty.errors import LoyaltyError
from loyalty.reasons import reason_text
from loyalty.selectors import customer_for_checkout
from loyalty.services import CheckoutQuote, loyalty_quote, loyalty_redeem
from loyalty.services.ledger import spendable
from orders.api import MoneyField, default_source
from shop.idempotency import HEADER, idempotent
from shop.models import IntegrationToken, ShopSettings
from shop.permissions import HasCapability
from shop.phones import PhoneError
from shop.roles import Capability

if TYPE_CHECKING:
    from customers.models import Customer


def error_response(code: str, message: str, *, field: str = "", status: int = 422) -> Response:
    fields = {field: [message]} if field else {}
    return Response({"error": {"code": code, "message": message, "fields": fields}}, status=status)


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1)
    phone = serializers.CharField(required=False, max_length=40)
    email = serializers.CharField(required=False, max_length=254)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Name the customer by id, phone or email.")
        return attrs


class ItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    quantity = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0.001"), default=Decimal("1")
    )
    price = MoneyField()


class CartSerializer(serializers.Serializer):
    total = MoneyField()
    items = ItemSerializer(many=True, required=False, default=list, max_length=500)  # type: ignore[call-arg]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        items = attrs["items"]
        if items:
            lines = sum((i["price"] * i["quantity"] for i in items), Decimal("0")).quantize(Decimal("0.01"))
            if lines != attrs["total"]:
                raise serializers.ValidationError(
                    {"total": [f"The items add up to {lines}, not {attrs['total']}: send a total equal to their sum."]}
                )
        return attrs


class QuoteInputSerializer(serializers.Serializer):
    customer = CustomerRefSerializer()
    cart = CartSerializer()
    code = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    credit = MoneyField(required=False, allow_null=True, default=None)


class OrderRefSerializer(serializers.Serializer):
    source = serializers.SlugField(max_length=60, required=False)  # type: ignore[assignment]  # a field, not Field.source
    external_id = serializers.CharField(max_length=120)


class RedeemInputSerializer(QuoteInputSerializer):
    order = OrderRefSerializer()
    credit = MoneyField(required=False, default=Decimal("0"))


class OfferSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField(allow_null=True)
    rule_name = serializers.CharField()
    kind = serializers.CharField()
    code = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    percent = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    perk = serializers.CharField()
    reason = serializers.CharField()


class DeclinedSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField()
    code = serializers.CharField()
    reason = serializers.CharField()


class LineSerializer(serializers.Serializer):
    key = serializers.CharField()
    discount = serializers.DecimalField(max_digits=14, decimal_places=2)


class QuoteOutputSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    offers = OfferSerializer(many=True)
    declined = DeclinedSerializer(many=True)
    discount_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    lines = LineSerializer(many=True)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit_available = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit_applied = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)


class RedeemOutputSerializer(serializers.Serializer):
    redemption_id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    order = serializers.DictField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    discount_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit_spent = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    offers = serializers.ListField(child=serializers.DictField())
    lines = LineSerializer(many=True)
    balance_after = serializers.DecimalField(max_digits=14, decimal_places=2)


def find_customer(ref: dict[str, Any]) -> "Customer":
    try:
        return customer_for_checkout(customer_id=ref.get("id"), phone=ref.get("phone", ""), email=ref.get("email", ""))
    except PhoneError as error:
        raise LoyaltyError("invalid_phone", str(error), field="customer", status=400) from error
    except EmailError as error:
        raise LoyaltyError("invalid_email", str(error), field="customer", status=400) from error


def cart_of(data: dict[str, Any]) -> Cart:
    lines = tuple(
        CartLine(
            key=item["sku"] or item["name"] or str(index + 1),
            amount=(item["price"] * item["quantity"]).quantize(Decimal("0.01")),
        )
        for index, item in enumerate(data["items"])
    )
    return Cart(total=data["total"], lines=lines)


def quote_payload(customer: "Customer", result: CheckoutQuote) -> dict[str, Any]:
    quote = result.quote
    return {
        "customer_id": customer.pk,
        "currency": ShopSettings.load().currency,
        "subtotal": quote.subtotal,
        "offers": [
            {
                "rule_id": o.rule_id,
                "rule_name": result.rule_names.get(o.rule_id or 0, ""),
                "kind": o.kind,
                "code": o.code,
                "amount": o.amount,
                "percent": o.percent,
                "perk": o.perk,
                "reason": reason_text(o.reason),
            }
            for o in quote.offers
        ],
        "declined": [
            {"rule_id": d.rule_id, "kind": d.kind, "code": d.code, "reason": reason_text(d.reason)}
            for d in quote.declined
        ],
        "discount_total": quote.discount,
        "lines": [{"key": key, "discount": amount} for key, amount in quote.line_discounts],
        "balance": result.balance,
        "credit_available": quote.credit_available,
        "credit_applied": quote.credit_applied,
        "total": quote.total,
    }


ERRORS = {
    404: OpenApiResponse(description="`unknown_code` or `customer_not_found`."),
    409: OpenApiResponse(description="`used_code`, `balance_spent`, `code_limit_reached`, `referral_reused`, …"),
    422: OpenApiResponse(description="`expired_code`, `self_referral`, `referral_not_first_order`, …"),
}


class QuoteApi(APIView):
    """The discounts and credit that apply to a customer's cart right now."""

    permission_classes = [HasCapability]
    capability = Capability.QUOTE

    @extend_schema(
        summary="Quote the loyalty discounts for a cart",
        description=(
            "Name the customer by `id`, `phone` or `email`; send the cart's `total` (and `items`, whose line totals "
            "must add up to it, to get the discount per line) and optionally a coupon, promo or referral `code` and "
            "the `credit` the customer wants to use (omit: as much as allowed). Answers the offers that apply, each "
            "with its rule and reason, the ones that do not and why, and the final total. Changes nothing. Amounts "
            "are decimal strings, rounded once to 0.01 half up."
        ),
        request=QuoteInputSerializer,
        responses={200: QuoteOutputSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "A cart with a promo code",
                request_only=True,
                value={"customer": {"phone": "+7 999 123-45-67"}, "cart": {"total": "4990.00"}, "code": "SPRING7K2M"},
            ),
            OpenApiExample(
                "Used coupon",
                status_codes=["409"],
                response_only=True,
                value={
                    "error": {
                        "code": "used_code",
                        "message": "Coupon CX7K… was already used on 2026-11-02.",
                        "fields": {"code": ["Coupon CX7K… was already used on 2026-11-02."]},
                    }
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = QuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            customer = find_customer(data["customer"])
            result = loyalty_quote(
                customer=customer, cart=cart_of(data["cart"]), code=data["code"], credit=data["credit"]
            )
        except LoyaltyError as error:
            return error_response(error.code, error.message, field=error.field, status=error.status)
        return Response(QuoteOutputSerializer(quote_payload(customer, result)).data)


def _key_owner(request: Request) -> str:
    if isinstance(request.auth, IntegrationToken):
        return f"token:{request.auth.pk}"
    return f"user:{request.user.pk}"


class RedeemApi(APIView):
    """Apply a quote to an order: coupon used, credit debited, once per Idempotency-Key."""

    permission_classes = [HasCapability]
    capability = Capability.REDEEM

    @extend_schema(
        summary="Redeem the loyalty discounts on an order",
        description=(
            "The quote's input plus the `order` (`source`, default the token's name, and `external_id`) and the "
            "`credit` to spend (default 0). Requires an `Idempotency-Key` header: the same key and body replay the "
            "answer, another body → 422, while the first is running → 409. The quote is recomputed under the "
            "customer's lock: a coupon or balance spent meanwhile by another request is refused (409 `used_code`, "
            "`balance_spent`), naming it. One redemption per order (409 `order_already_redeemed`)."
        ),
        request=RedeemInputSerializer,
        parameters=[OpenApiParameter(HEADER, str, OpenApiParameter.HEADER, required=True)],
        responses={201: RedeemOutputSerializer, 400: OpenApiResponse(description="No Idempotency-Key."), **ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return error_response(
                "idempotency_key_required", f"Send an {HEADER} header: a redemption must happen once.", status=400
            )
        serializer = RedeemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        source = data["order"].get("source") or default_source(request)
        try:
            customer = find_customer(data["customer"])
            redemption = loyalty_redeem(
                customer=customer, cart=cart_of(data["cart"]), code=data["code"], credit=data["credit"],
                order_source=source, order_external_id=data["order"]["external_id"],
                idempotency_key=f"{_key_owner(request)}:{key}",
            )  # fmt: skip
        except LoyaltyError as error:
            return error_response(error.code, error.message, field=error.field, status=error.status)
        payload = {
            "redemption_id": redemption.pk,
            "customer_id": redemption.customer_id,
            "order": {"source": redemption.order_source, "external_id": redemption.order_external_id},
            "subtotal": redemption.subtotal,
            "discount_total": redemption.discount,
            "credit_spent": redemption.credit_spent,
            "total": redemption.total,
            "offers": redemption.offers,
            "lines": redemption.lines,
            "balance_after": spendable(redemption.customer_id, now=redemption.created_at),
        }
        return Response(RedeemOutputSerializer(payload).data, status=201)
