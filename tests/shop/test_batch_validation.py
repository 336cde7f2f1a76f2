"""The bulk path's validation plan reads a row exactly as the serializer does, or hands it back to the serializer:
it never accepts a row the serializer refuses, and what it accepts is what the serializer would have given."""

import copy
from decimal import Decimal
from typing import Any

import pytest
from rest_framework import serializers

from customers.api import CustomerInputSerializer
from orders.api import OrderInputSerializer
from shop.api_batch import validate_rows
from shop.batch_validation import Unsure, row_plan
from shop.models import ShopSettings

BASE_ORDER: dict[str, Any] = {
    "source": "site",
    "external_id": "100",
    "status": "paid",
    "placed_at": "2026-11-20T14:05:00+03:00",
    "total": "3490.00",
    "delivery_cost": "290.00",
    "items": [{"sku": "EL-002", "name": "Зарядное устройство", "price": "3200.00"}],
    "customer": {"name": "Анна Смирнова", "phones": ["8 (999) 123-45-67"]},
}

# Values a sender may put in each place, good and bad: the plan and the serializer must agree on every one.
VARIANTS: dict[tuple[Any, ...], list[Any]] = {
    ("source",): ["shop-2", "", "  site  ", "two words", None, 5, "x" * 61, "сайт"],
    ("external_id",): ["  7  ", "", "   ", 12345, 1.5, True, None, [], "x" * 120, "x" * 121, "a\x00b", "\ud800"],
    ("status",): ["delivered", "", "Paid", "lost", 3, None],
    ("placed_at",): ["2026-11-20T14:05:00Z", "2026-11-20 14:05", "2026-11-20", "yesterday", "", 0, None],
    ("status_at",): [None, "2026-11-21T10:00:00+03:00", "not a date"],
    ("updated_at",): ["2026-11-21T10:00:00.123456+05:00", ""],
    ("currency",): ["RUB", "", "rub", "USD", "RUBX", None],
    ("subtotal",): [None, "", "  ", "10", "10.005", "-1", "1e3", "NaN", "Infinity", 10, 10.5, "123456789012.5"],
    ("total",): ["0", "0.00", " 12.5 ", "12,5", "-0.01", 3490.5, True, "9" * 13, None],
    ("discount_total",): ["1.1", "abc"],
    ("promo_code",): ["", "  SALE ", "x" * 61],
    ("items",): [None, [], "items", [{}], [{"name": "A", "price": "1"}] * 501, [{"name": "A", "price": "1"}] * 3],
    ("items", 0, "quantity"): ["2", "0", "0.0005", "1.0004", 2, None],
    ("items", 0, "name"): ["", "  ", "n" * 256, None],
    ("items", 0, "sku"): [None, "", 7],
    ("customer",): [None, "Анна", {}, {"external_id": "c-1"}, {"emails": ["A@Example.COM"]}],
    ("customer", "phones"): [[], ["not a phone"], ["+7 999 123-45-67", "89991234567"], "89991234567", [None], [""]],
    ("customer", "emails"): [["bad"], [" X@y.ru "], None],
    ("customer", "language"): ["en", "de", ""],
    ("customer", "email_consent"): [True, "true", "yes", 1, "maybe", None],
    ("customer", "consent_at"): ["2026-11-01T00:00:00Z", "soon"],
}


def _variant(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    row = copy.deepcopy(BASE_ORDER)
    place = row
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = value
    return row


def _serializer_result(serializer_class: type[serializers.Serializer], row: Any) -> tuple[bool, Any]:
    serializer = serializer_class(data=[row], many=True, context={"shop_settings": ShopSettings.load()})  # type: ignore[call-arg]
    valid = serializer.is_valid()
    return valid, serializer.validated_data[0] if valid else serializer.errors


def _plan_result(serializer_class: type[serializers.Serializer], row: Any) -> Any:
    serializer = serializer_class(data=[row], many=True, context={"shop_settings": ShopSettings.load()})  # type: ignore[call-arg]
    plan = row_plan(serializer.child)  # type: ignore[attr-defined]
    assert plan is not None
    try:
        return plan(row)
    except Unsure:
        return Unsure


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "value"), [(path, value) for path, values in VARIANTS.items() for value in values])
def test_the_plan_accepts_only_what_the_serializer_accepts_and_reads_it_the_same(path, value):
    row = _variant(path, value)
    accepted, expected = _serializer_result(OrderInputSerializer, row)
    read = _plan_result(OrderInputSerializer, row)
    if not accepted:
        assert read is Unsure
    else:
        assert read is Unsure or read == expected


@pytest.mark.django_db
def test_the_plan_reads_an_ordinary_order_without_handing_it_back():
    assert _plan_result(OrderInputSerializer, BASE_ORDER) == _serializer_result(OrderInputSerializer, BASE_ORDER)[1]


@pytest.mark.django_db
def test_the_plan_reads_a_customer_record_as_the_customers_serializer_does():
    row = {"external_id": " c-9 ", "phones": ["8 (916) 555-44-33"], "emails": ["A@b.RU"], "sms_consent": False}
    assert _plan_result(CustomerInputSerializer, row) == _serializer_result(CustomerInputSerializer, row)[1]


@pytest.mark.django_db
def test_a_batch_mixing_good_and_bad_rows_names_only_the_bad_rows_by_their_place():
    rows = [BASE_ORDER, _variant(("total",), 3490.5), BASE_ORDER, _variant(("items", 0, "price"), "-1")]
    with pytest.raises(serializers.ValidationError) as refusal:
        validate_rows(OrderInputSerializer, rows, "orders")
    errors: Any = refusal.value.detail["orders"]  # type: ignore[index,call-overload]
    assert set(errors) == {"1", "3"}
    assert "total" in errors["1"] and "items" in errors["3"]


@pytest.mark.django_db
def test_rows_the_plan_hands_back_are_validated_by_the_serializer_in_their_place():
    odd = _variant(("subtotal",), " ")  # a blank amount DRF reads as null: the plan leaves that reading to it
    valid = validate_rows(OrderInputSerializer, [BASE_ORDER, odd], "orders")
    assert valid[1]["subtotal"] is None
    assert valid[0]["total"] == Decimal("3490.00")


def test_a_serializer_with_its_own_reading_of_a_row_is_left_to_drf_whole():
    class Custom(serializers.Serializer):
        name = serializers.CharField()

        def to_internal_value(self, data: Any) -> Any:
            return super().to_internal_value(data)

    assert row_plan(Custom()) is None
