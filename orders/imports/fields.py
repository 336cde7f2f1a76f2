"""The fields an import fills, as tables: the header spellings that name each one (English and Russian), its label
in the manager's language, which fields belong to the order rather than an item, and the status words we read."""

from decimal import Decimal
from typing import Any

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy

from orders.models import ImportKind, OrderStatus

# Target field → header spellings (compared lower-cased, without spaces at the ends), English and Russian.
ORDER_FIELDS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "order id",
        "order_id",
        "order number",
        "order_number",
        "order",
        "номер заказа",
        "№ заказа",
        "заказ",
        "id заказа",
        "номер",
    ),
    "placed_at": (
        "date",
        "order date",
        "created",
        "created_at",
        "placed_at",
        "дата",
        "дата заказа",
        "дата создания",
        "создан",
    ),
    "status": ("status", "order status", "статус", "статус заказа"),
    "payment_status": ("payment status", "financial status", "статус оплаты"),
    "total": ("total", "sum", "amount", "order total", "сумма", "итого", "сумма заказа", "итоговая сумма"),
    "delivery_cost": ("delivery", "shipping", "delivery cost", "доставка", "стоимость доставки"),
    "discount_total": ("discount", "скидка", "сумма скидки"),
    "currency": ("currency", "валюта"),
    "promo_code": ("promo code", "promo", "coupon", "промокод", "купон"),
    "customer_id": ("customer id", "customer_id", "client id", "id клиента", "код клиента"),
    "name": (
        "name",
        "customer",
        "customer name",
        "full name",
        "first name",
        "фио",
        "имя",
        "клиент",
        "покупатель",
        "ф.и.о.",
    ),
    "last_name": ("last name", "surname", "фамилия"),
    "phone": ("phone", "telephone", "mobile", "phone number", "телефон", "номер телефона", "мобильный", "тел."),
    "email": ("email", "e-mail", "mail", "почта", "электронная почта", "эл. почта"),
    "city": ("city", "город"),
    "address": ("address", "адрес", "адрес доставки"),
    "sku": ("sku", "артикул", "код товара"),
    "item_name": ("product", "item", "product name", "item name", "товар", "наименование", "название товара"),
    "category": ("category", "категория"),
    "quantity": ("qty", "quantity", "количество", "кол-во", "кол."),
    "price": ("price", "item price", "unit price", "цена", "цена за шт", "цена за единицу"),
    "line_total": ("line total", "item total", "сумма позиции", "стоимость позиции"),
    "tax": ("tax", "taxes", "tax total", "налог"),
    "utm_source": ("utm_source", "источник"),
    "utm_medium": ("utm_medium", "канал"),
    "utm_campaign": ("utm_campaign", "кампания"),
}
CUSTOMER_FIELDS: dict[str, tuple[str, ...]] = {
    "customer_id": ("id", "customer id", "customer_id", "client id", "id клиента", "код клиента"),
    **{
        key: ORDER_FIELDS[key]
        for key in (
            "name",
            "last_name",
            "phone",
            "email",
            "city",
            "address",
            "utm_source",
            "utm_medium",
            "utm_campaign",
        )
    },
    "email_consent": ("email consent", "subscribed", "согласие на email", "подписка"),
    "sms_consent": ("sms consent", "согласие на sms", "согласие на смс"),
    "consent_source": ("consent source", "источник согласия"),
    "consent_wording": ("consent wording", "consent version", "версия согласия", "редакция согласия"),
    "consent_at": ("consent date", "consent at", "дата согласия"),
}
# What the manager reads for each target field, on the mapping form, the preview and in the reasons.
FIELD_LABELS: dict[str, Any] = {
    "external_id": gettext_lazy("Order number"),
    "placed_at": gettext_lazy("Order date"),
    "status": gettext_lazy("Status"),
    "payment_status": gettext_lazy("Payment status"),
    "total": gettext_lazy("Order total"),
    "delivery_cost": gettext_lazy("Delivery cost"),
    "discount_total": gettext_lazy("Discount"),
    "tax": gettext_lazy("Tax added to the total"),
    "currency": gettext_lazy("Currency"),
    "promo_code": gettext_lazy("Promo code"),
    "customer_id": gettext_lazy("Customer id"),
    "name": gettext_lazy("Customer name"),
    "last_name": gettext_lazy("Customer surname"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("Email"),
    "city": gettext_lazy("City"),
    "address": gettext_lazy("Address"),
    "sku": gettext_lazy("SKU"),
    "item_name": gettext_lazy("Product"),
    "category": gettext_lazy("Category"),
    "quantity": gettext_lazy("Quantity"),
    "price": gettext_lazy("Unit price"),
    "line_total": gettext_lazy("Line total"),
    "utm_source": gettext_lazy("Source (utm_source)"),
    "utm_medium": gettext_lazy("Medium (utm_medium)"),
    "utm_campaign": gettext_lazy("Campaign (utm_campaign)"),
    "email_consent": gettext_lazy("Email consent"),
    "sms_consent": gettext_lazy("SMS consent"),
    "consent_source": gettext_lazy("Consent source"),
    "consent_wording": gettext_lazy("Consent wording version"),
    "consent_at": gettext_lazy("Consent date"),
}
# Fields that describe an order rather than one of its items: in a file with one row per item they are written on
# the order's first row, and a later row that repeats them must agree.
ORDER_LEVEL = (
    "placed_at",
    "status",
    "payment_status",
    "total",
    "delivery_cost",
    "discount_total",
    "tax",
    "currency",
    "promo_code",
    "customer_id",
    "name",
    "last_name",
    "phone",
    "email",
    "city",
    "address",
    "utm_source",
    "utm_medium",
    "utm_campaign",
)
# Amounts above this are a typo or garbage, not an order (and would overflow the money columns).
MAX_AMOUNT = Decimal("1000000000")
MAX_QUANTITY = Decimal("1000000")


def label(target: str) -> str:
    return str(FIELD_LABELS.get(target, target))


REQUIRED: dict[str, tuple[str, ...]] = {
    ImportKind.ORDERS: ("external_id", "placed_at", "total"),
    ImportKind.CUSTOMERS: (),
}

# The platforms' own status words too (Shopify's financial statuses, WooCommerce's and OpenCart's defaults, the
# usual InSales, Bitrix and RetailCRM names).
STATUS_WORDS = {
    OrderStatus.NEW: (
        "new",
        "новый",
        "создан",
        "принят",
        "pending",
        "pending payment",
        "authorized",
        "partially_paid",
        "processing",
        "on-hold",
        "on hold",
        "unfulfilled",
        "в процессе",
        "ожидание",
        "обрабатывается",
        "в обработке",
        "согласован",
        "согласование",
        "принят, ожидается оплата",
    ),
    OrderStatus.PAID: (
        "paid",
        "оплачен",
        "оплачено",
        "оплата получена",
        "partially_refunded",
        "обработано",
        "оплачен, формируется к отправке",
        "полностью оплачен",
    ),
    OrderStatus.SHIPPED: (
        "shipped",
        "отправлен",
        "в пути",
        "передан в доставку",
        "отгружен",
        "partial",
        "отправлено",
        "доставляется",
    ),
    OrderStatus.DELIVERED: (
        "delivered",
        "доставлен",
        "выполнен",
        "получен",
        "вручен",
        "завершён",
        "завершен",
        "fulfilled",
        "complete",
        "completed",
        "доставлено",
        "завершено",
        "сделка завершена",
    ),
    OrderStatus.CANCELLED: (
        "cancelled",
        "canceled",
        "отменён",
        "отменен",
        "отмена",
        "voided",
        "failed",
        "отменено",
        "отказано",
        "отменен покупателем",
    ),
    OrderStatus.RETURNED: ("returned", "возврат", "возвращён", "возвращен", "refunded", "возврат средств"),
}
STATUS_BY_WORD = {word: status for status, words in STATUS_WORDS.items() for word in words}


class Payment(TextChoices):
    """What a separate payment-status column says (Shopify's ``Financial Status``, InSales' "Статус оплаты"):
    money, not delivery. It never makes an order delivered; see :func:`combined_status`."""

    PAID = "paid", gettext_lazy("Paid")
    UNPAID = "unpaid", gettext_lazy("Not paid")
    REFUNDED = "refunded", gettext_lazy("Refunded")
    VOIDED = "voided", gettext_lazy("Voided")


PAYMENT_WORDS = {
    Payment.PAID: ("paid", "partially_refunded", "partially refunded", "оплачен", "оплачено", "полностью оплачен"),
    Payment.UNPAID: (
        "pending",
        "authorized",
        "partially_paid",
        "partially paid",
        "unpaid",
        "expired",
        "не оплачен",
        "не оплачено",
        "ожидает оплаты",
        "частично оплачен",
    ),
    Payment.REFUNDED: ("refunded", "возврат", "возврат средств", "возвращён", "возвращен", "деньги возвращены"),
    Payment.VOIDED: ("voided", "отменён", "отменен", "аннулирован"),
}
PAYMENT_BY_WORD = {word: payment for payment, words in PAYMENT_WORDS.items() for word in words}
_SENT = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})


def status_label(target: str, value: object) -> str | None:
    """The name a reader sees for a status or payment code, in their language; None for any other value."""
    if target == "status" and value in OrderStatus.values:
        return str(OrderStatus(value).label)
    if target == "payment_status" and value in Payment.values:
        return str(Payment(value).label)
    return None


def combined_status(status: str | None, payment: str) -> str:
    """The order's status from its delivery status (``None`` when the file has no such cell) and its payment.

    Paid is not delivered: an order counts as delivered only when its delivery status says so (Shopify:
    ``Fulfillment Status`` fulfilled). Money returned after the goods went out is a return; before, or an
    authorisation voided, the order was cancelled. Paid lifts a new order to paid and changes nothing later."""
    if payment == Payment.REFUNDED:
        return OrderStatus.RETURNED if status in _SENT else OrderStatus.CANCELLED
    if payment == Payment.VOIDED:
        return OrderStatus.CANCELLED
    if status is None:
        return OrderStatus.PAID if payment == Payment.PAID else OrderStatus.NEW
    if payment == Payment.PAID and status == OrderStatus.NEW:
        return OrderStatus.PAID
    return status


def fields_for(kind: str) -> dict[str, tuple[str, ...]]:
    return ORDER_FIELDS if kind == ImportKind.ORDERS else CUSTOMER_FIELDS
