"""Shopify's export as Shopify writes it: its full header row is recognised, and the order's status comes from two
columns, ``Fulfillment Status`` (did the goods go out) and ``Financial Status`` (what happened to the money), so a
paid order is never counted as delivered and a refund is a return only after a fulfilment."""

from zoneinfo import ZoneInfo

import pytest

from orders.imports.fields import Payment, combined_status
from orders.imports.parsing import auto_mapping, parse_row
from orders.imports.presets import detect_preset
from orders.models import ImportKind, OrderStatus

# The header row of Shopify's orders export (Admin → Orders → Export), column for column.
SHOPIFY_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
]
ZONE = ZoneInfo("Europe/Moscow")


def _row(financial: str, fulfillment: str) -> dict[str, str]:
    row = dict.fromkeys(SHOPIFY_HEADER, "")
    row |= {
        "Name": "#1001",
        "Email": "anna@example.ru",
        "Financial Status": financial,
        "Fulfillment Status": fulfillment,
        "Currency": "RUB",
        "Total": "1250.00",
        "Created at": "2026-03-01 10:15:00 +0300",
        "Lineitem quantity": "1",
        "Lineitem name": "Чайник",
        "Lineitem price": "1250.00",
        "Billing Name": "Анна Смирнова",
        "Billing Phone": "+7 916 555-44-33",
    }
    return row


def _status(financial: str, fulfillment: str) -> str:
    mapping = auto_mapping(SHOPIFY_HEADER, ImportKind.ORDERS)
    result = parse_row(2, _row(financial, fulfillment), mapping, ImportKind.ORDERS, ZONE, "RU")
    assert result.errors == []
    return result.data["status"]


def test_the_full_export_header_is_recognised_as_shopify() -> None:
    preset = detect_preset(SHOPIFY_HEADER, ImportKind.ORDERS)
    assert preset is not None and preset.key == "shopify"
    mapping = auto_mapping(SHOPIFY_HEADER, ImportKind.ORDERS)
    assert (mapping["status"], mapping["payment_status"]) == ("Fulfillment Status", "Financial Status")
    assert (mapping["external_id"], mapping["name"], mapping["phone"]) == ("Name", "Billing Name", "Billing Phone")


@pytest.mark.parametrize(
    ("financial", "fulfillment", "status"),
    [
        ("paid", "fulfilled", OrderStatus.DELIVERED),
        ("paid", "unfulfilled", OrderStatus.PAID),
        ("paid", "partial", OrderStatus.SHIPPED),
        ("partially_refunded", "fulfilled", OrderStatus.DELIVERED),
        ("pending", "unfulfilled", OrderStatus.NEW),
        ("authorized", "unfulfilled", OrderStatus.NEW),
        ("refunded", "fulfilled", OrderStatus.RETURNED),
        ("refunded", "unfulfilled", OrderStatus.CANCELLED),
        ("voided", "unfulfilled", OrderStatus.CANCELLED),
    ],
)
def test_the_status_reads_both_the_money_and_the_fulfilment(financial: str, fulfillment: str, status: str) -> None:
    assert _status(financial, fulfillment) == status


def test_paid_alone_is_paid_not_delivered() -> None:
    """A file with the payment column and no delivery column: nothing says the goods arrived."""
    assert combined_status(None, Payment.PAID) == OrderStatus.PAID
    assert combined_status(None, Payment.REFUNDED) == OrderStatus.CANCELLED


def test_an_unknown_financial_status_is_named_with_its_value() -> None:
    mapping = auto_mapping(SHOPIFY_HEADER, ImportKind.ORDERS)
    result = parse_row(2, _row("bartered", "fulfilled"), mapping, ImportKind.ORDERS, ZONE, "RU")
    assert any("bartered" in error for error in result.errors)
