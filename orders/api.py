"""The ingestion API: orders (and their customers) upserted by the shop's platform, one or a thousand at a time;
the customers-only endpoint is in ``customers.api``."""

from decimal import Decimal
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api import OrderCustomerInputSerializer
from orders.models import ChangeOrigin, Order, OrderStatus
from orders.services import MAX_ITEMS_PER_ORDER as MAX_ITEMS
from orders.services import ItemData, OrderData, UpsertResult, orders_upsert
from shop.api_batch import batch_rows, check_sources, default_source, shop_settings_of, validate_rows
from shop.batch_validation import PrecheckedSerializer
from shop.idempotency import idempotent
from shop.permissions import HasCapability
from shop.roles import Capability
from shop.schema import results_of


class MoneyField(serializers.DecimalField):
    """An amount of money: a string or an integer, never a float (binary floats cannot hold kopecks exactly)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, float):
            raise serializers.ValidationError(
                'Send amounts as strings, e.g. "1499.90", not as JSON numbers with a fraction.'
            )
        return super().to_internal_value(data)


class ItemInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=255)
    category = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    quantity = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0.001"), default=Decimal("1")
    )
    price = MoneyField()


class OrderInputSerializer(PrecheckedSerializer):
    source = serializers.SlugField(max_length=60, required=False)  # type: ignore[assignment]  # a field, not Field.source
    external_id = serializers.CharField(max_length=120)
    status = serializers.ChoiceField(choices=OrderStatus.choices, default=OrderStatus.NEW)
    placed_at = serializers.DateTimeField()
    status_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    # When the platform last changed the order (Shopify's updated_at): an older one never overwrites a newer state.
    updated_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="")
    subtotal = MoneyField(required=False, allow_null=True, default=None)
    discount_total = MoneyField(default=Decimal("0"))
    delivery_cost = MoneyField(default=Decimal("0"))
    total = MoneyField()
    promo_code = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    items = ItemInputSerializer(many=True, required=False, allow_null=True, default=None)
    customer = OrderCustomerInputSerializer()

    def precheck(self, data: Any) -> None:
        # Counted before any item is validated: ten thousand items are refused at the cost of one len().
        items = data.get("items") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > MAX_ITEMS:
            raise serializers.ValidationError(
                {"items": [f"An order holds at most {MAX_ITEMS} items, not {len(items)}."]}
            )

    def validate_currency(self, value: str) -> str:
        """Amounts are added up in the shop's currency: an order in another one would be summed as if it were."""
        if not value:
            return value
        shop = shop_settings_of(self).currency
        if value != shop:
            raise serializers.ValidationError(
                f"“{value}” is not the shop's currency ({shop}): orders are accepted in {shop} only."
            )
        return value

    @staticmethod
    def to_data(attrs: dict[str, Any], default: str) -> OrderData:
        source = attrs.get("source") or default
        items = attrs["items"]
        subtotal = attrs["subtotal"]
        if subtotal is None:
            subtotal = attrs["total"] - attrs["delivery_cost"] + attrs["discount_total"]
        return OrderData(
            source=source,
            external_id=attrs["external_id"],
            customer=OrderCustomerInputSerializer.to_data(attrs["customer"], source),
            placed_at=attrs["placed_at"],
            status=attrs["status"],
            status_at=attrs["status_at"],
            delivered_at=attrs["delivered_at"],
            updated_at=attrs["updated_at"],
            currency=attrs["currency"],
            subtotal=max(subtotal, Decimal("0")),
            discount_total=attrs["discount_total"],
            delivery_cost=attrs["delivery_cost"],
            total=attrs["total"],
            promo_code=attrs["promo_code"],
            items=None
            if items is None
            else tuple(
                ItemData(name=i["name"], price=i["price"], quantity=i["quantity"], sku=i["sku"], category=i["category"])
                for i in items
            ),
        )


class ResultSerializer(serializers.Serializer):
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
    external_id = serializers.CharField()
    id = serializers.IntegerField(source="order_id", allow_null=True)
    created = serializers.BooleanField()
    status_changed = serializers.BooleanField()
    stale = serializers.BooleanField()
    error = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())


def results_data(results: list[UpsertResult]) -> list[dict[str, Any]]:
    """The results as :class:`ResultSerializer` writes them (the published schema), field for field, without DRF's
    calls per field and row: a thousand results took it longer than writing the orders' items."""
    return [
        {
            "source": str(r.source),
            "external_id": str(r.external_id),
            "id": None if r.order_id is None else int(r.order_id),
            "created": bool(r.created),
            "status_changed": bool(r.status_changed),
            "stale": bool(r.stale),
            "error": str(r.error),
            "warnings": [str(warning) for warning in r.warnings],
        }
        for r in results
    ]


class OrderUpsertApi(APIView):
    """Create or update orders by ``(source, external_id)``."""

    permission_classes = [HasCapability]
    capability = Capability.IMPORT

    @extend_schema(
        summary="Upsert one order or a batch of up to 1,000",
        description=(
            'Send one order object, or `{"orders": [...]}`. Each order is keyed by `(source, external_id)`: a '
            "repeat changes nothing, a later status moves the order along new → paid → shipped → delivered "
            "(or cancelled / returned), an earlier status arriving late is ignored (`stale`), and so is a payload "
            "whose `updated_at` (the platform's own update time) is older than the stored one; a move the "
            "pipeline forbids is that row's `error` while the other rows land. The customer is matched by external "
            "id, then phone, then email, else created; a phone or email that cannot be read does not refuse the "
            "order: it is kept on the customer as unverified and the row's `warnings` say so. A batch with an "
            "invalid row is refused whole (400) with the errors of each bad row under its index. At most 1,000 "
            "orders a batch and 500 items an order; `currency`, when sent, must be the shop's. A token writes only "
            "its own sources (403 otherwise). Amounts are decimal strings. `Idempotency-Key` is honoured: "
            "the same key and body replay the answer, another body → 422, still running → 409."
        ),
        request=OrderInputSerializer,
        responses={200: results_of(ResultSerializer, "OrderUpsertResults")},
        examples=[
            OpenApiExample(
                "One order",
                request_only=True,
                value={
                    "external_id": "100234",
                    "status": "paid",
                    "placed_at": "2026-11-20T14:05:00+03:00",
                    "total": "3490.00",
                    "delivery_cost": "290.00",
                    "items": [{"sku": "EL-002", "name": "Зарядное устройство", "price": "3200.00"}],
                    "customer": {"external_id": "c-77", "name": "Анна Смирнова", "phones": ["8 (999) 123-45-67"]},
                },
            )
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        rows, _ = batch_rows(request, "orders")
        valid = validate_rows(OrderInputSerializer, rows, "orders")
        source = default_source(request)
        check_sources(request, valid, "orders")
        items = [OrderInputSerializer.to_data(attrs, source) for attrs in valid]
        results = orders_upsert(items=items, origin=ChangeOrigin.API, user=request.user)
        return Response({"results": results_data(results)})


class OrderDetailApi(APIView):
    """What Retain holds for one order, for the platform to check."""

    permission_classes = [HasCapability]
    capability = Capability.IMPORT

    class OutputSerializer(serializers.ModelSerializer):
        status_history = serializers.SerializerMethodField()
        customer_id = serializers.IntegerField()

        class Meta:
            model = Order
            fields = (
                "id",
                "source",
                "external_id",
                "customer_id",
                "placed_at",
                "status",
                "status_changed_at",
                "delivered_at",
                "currency",
                "subtotal",
                "discount_total",
                "delivery_cost",
                "total",
                "promo_code",
                "source_updated_at",
                "status_history",
            )

        def get_status_history(self, order: Order) -> list[dict[str, Any]]:
            return [
                {"from": change.from_status, "to": change.to_status, "at": change.changed_at, "origin": change.origin}
                for change in order.status_changes.all()
            ]

    @extend_schema(summary="One order with its status history", responses=OutputSerializer)
    def get(self, request: Request, source: str, external_id: str) -> Response:
        order = get_object_or_404(
            Order.objects.prefetch_related("status_changes"), source=source, external_id=external_id
        )
        return Response(self.OutputSerializer(order).data)
