"""Reading a shop's CSV the way Russian and English spreadsheets write it: encodings, separators, headers, dates,
amounts and statuses. Pure functions: each row becomes data or a list of reasons why it cannot."""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from customers.contacts import EmailError, normalize_email
from orders.models import ImportKind, OrderStatus
from shop.money import MoneyError, to_money
from shop.phones import PhoneError, normalize_phone

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
    "total": ("total", "sum", "amount", "order total", "сумма", "итого", "сумма заказа", "итоговая сумма"),
    "delivery_cost": ("delivery", "shipping", "delivery cost", "доставка", "стоимость доставки"),
    "discount_total": ("discount", "скидка", "сумма скидки"),
    "currency": ("currency", "валюта"),
    "promo_code": ("promo code", "promo", "coupon", "промокод", "купон"),
    "customer_id": ("customer id", "customer_id", "client id", "id клиента", "код клиента"),
    "name": ("name", "customer", "customer name", "full name", "фио", "имя", "клиент", "покупатель", "ф.и.о."),
    "phone": ("phone", "telephone", "mobile", "phone number", "телефон", "номер телефона", "мобильный", "тел."),
    "email": ("email", "e-mail", "mail", "почта", "электронная почта", "эл. почта"),
    "city": ("city", "город"),
    "address": ("address", "адрес", "адрес доставки"),
    "sku": ("sku", "артикул", "код товара"),
    "item_name": ("product", "item", "product name", "item name", "товар", "наименование", "название товара"),
    "category": ("category", "категория"),
    "quantity": ("qty", "quantity", "количество", "кол-во", "кол."),
    "price": ("price", "item price", "unit price", "цена", "цена за шт", "цена за единицу"),
    "utm_source": ("utm_source", "источник"),
    "utm_medium": ("utm_medium", "канал"),
    "utm_campaign": ("utm_campaign", "кампания"),
}
CUSTOMER_FIELDS: dict[str, tuple[str, ...]] = {
    "customer_id": ("id", "customer id", "customer_id", "client id", "id клиента", "код клиента"),
    **{
        key: ORDER_FIELDS[key]
        for key in ("name", "phone", "email", "city", "address", "utm_source", "utm_medium", "utm_campaign")
    },
    "email_consent": ("email consent", "subscribed", "согласие на email", "подписка"),
    "sms_consent": ("sms consent", "согласие на sms", "согласие на смс"),
    "consent_source": ("consent source", "источник согласия"),
    "consent_wording": ("consent wording", "consent version", "версия согласия", "редакция согласия"),
    "consent_at": ("consent date", "consent at", "дата согласия"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    ImportKind.ORDERS: ("external_id", "placed_at", "total"),
    ImportKind.CUSTOMERS: (),
}

STATUS_WORDS = {
    OrderStatus.NEW: ("new", "новый", "создан", "принят"),
    OrderStatus.PAID: ("paid", "оплачен", "оплачено", "оплата получена"),
    OrderStatus.SHIPPED: ("shipped", "отправлен", "в пути", "передан в доставку", "отгружен"),
    OrderStatus.DELIVERED: ("delivered", "доставлен", "выполнен", "получен", "вручен", "завершён", "завершен"),
    OrderStatus.CANCELLED: ("cancelled", "canceled", "отменён", "отменен", "отмена"),
    OrderStatus.RETURNED: ("returned", "возврат", "возвращён", "возвращен"),
}
STATUS_BY_WORD = {word: status for status, words in STATUS_WORDS.items() for word in words}
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d.%m.%y",
)
TRUE_WORDS = {"1", "yes", "true", "да", "y", "д", "+"}


def fields_for(kind: str) -> dict[str, tuple[str, ...]]:
    return ORDER_FIELDS if kind == ImportKind.ORDERS else CUSTOMER_FIELDS


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else Windows-1251, what Russian Excel saves."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte letter cut at the end of the sample is still UTF-8.
        if error.start < len(sample) - 3:
            return "cp1251"
    return "utf-8-sig"


def detect_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text, delimiters=";,\t").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        return max(";,\t", key=first.count)


def auto_mapping(headers: list[str], kind: str) -> dict[str, str]:
    """Target field → the file's header that names it, for every header we recognise."""
    mapping: dict[str, str] = {}
    for header in headers:
        spelled = header.strip().lower()
        for target, spellings in fields_for(kind).items():
            if spelled in spellings and target not in mapping:
                mapping[target] = header
                break
    return mapping


def open_rows(handle: IO[bytes], encoding: str, delimiter: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(physical line number, row by header); the header is line 1."""
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    reader = csv.DictReader(text, delimiter=delimiter)
    for row in reader:
        yield reader.line_num, {key: (value or "").strip() for key, value in row.items() if key is not None}


@dataclass
class RowResult:
    line: int
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def parse_date(text: str, zone: ZoneInfo) -> datetime:
    parsed = parse_datetime(text.replace(" ", "T", 1)) if "T" in text or "+" in text else None
    if parsed is not None:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ValueError(_("“%(value)s” is not a date (use 2026-03-01 or 01.03.2026).") % {"value": text})


class _Invalid(ValueError):
    """A cell that cannot be read: the reason, and what the row's data still shows for it (nothing, or the value
    read, e.g. a negative amount)."""

    def __init__(self, reason: str, kept: Any = None) -> None:
        super().__init__(reason)
        self.kept = kept


_ABSENT = object()  # the cell leaves no key in the row's data


@dataclass(frozen=True)
class _Context:
    kind: str
    zone: ZoneInfo
    region: str


def _text(text: str, name: str, context: _Context) -> str:
    return text


def _date(text: str, name: str, context: _Context) -> datetime:
    try:
        return parse_date(text, context.zone)
    except ValueError as error:
        raise _Invalid(str(error), _ABSENT) from error


def _status(text: str, name: str, context: _Context) -> str:
    status = STATUS_BY_WORD.get(text.lower())
    if status is None:
        raise _Invalid(_("Unknown status “%(value)s”.") % {"value": text}, "")
    return status


def _money(text: str, name: str, context: _Context) -> Decimal:
    try:
        amount = to_money(text)
    except MoneyError as error:
        raise _Invalid(_("%(field)s: “%(value)s” is not an amount.") % {"field": name, "value": text}) from error
    if amount < 0:
        raise _Invalid(_("%(field)s: %(value)s is negative.") % {"field": name, "value": amount}, amount)
    return amount


def _quantity(text: str, name: str, context: _Context) -> Decimal:
    reason = _("Quantity “%(value)s” is not a positive number.") % {"value": text}
    try:
        quantity = Decimal(text.replace(",", "."))
    except ArithmeticError as error:
        raise _Invalid(reason, _ABSENT) from error
    try:
        positive = quantity > 0
    except ArithmeticError:  # NaN cannot be compared
        positive = False
    if not positive:
        raise _Invalid(reason, quantity)
    return quantity


def _phones(text: str, name: str, context: _Context) -> list[str]:
    try:
        return [normalize_phone(text, context.region)]
    except PhoneError as error:
        raise _Invalid(str(error), []) from error


def _emails(text: str, name: str, context: _Context) -> list[str]:
    try:
        return [normalize_email(text)]
    except EmailError as error:
        raise _Invalid(str(error), []) from error


def _yes(text: str, name: str, context: _Context) -> bool:
    return text.lower() in TRUE_WORDS


def _empty_status(context: _Context) -> str:
    # An order history without statuses is one of completed orders.
    return OrderStatus.DELIVERED if context.kind == ImportKind.ORDERS else ""


@dataclass(frozen=True)
class _Column:
    """How one target field is read from its cell: ``read`` a filled cell (raising :class:`_Invalid`), or take
    ``empty`` for a blank or unmapped one; stored under ``into`` (phone → phones) or the field's own name."""

    target: str
    read: Callable[[str, str, _Context], Any]
    empty: Callable[[_Context], Any]
    into: str = ""


TEXT_FIELDS = (
    "external_id",
    "customer_id",
    "name",
    "city",
    "address",
    "sku",
    "item_name",
    "category",
    "currency",
    "promo_code",
    "utm_source",
    "utm_medium",
    "utm_campaign",
)
# In the order the reasons of a bad row are listed.
COLUMNS: tuple[_Column, ...] = (
    *(_Column(target, _text, lambda context: "") for target in TEXT_FIELDS),
    _Column("placed_at", _date, lambda context: _ABSENT),
    _Column("status", _status, _empty_status),
    *(
        _Column(target, _money, lambda context: None)
        for target in ("total", "delivery_cost", "discount_total", "price")
    ),
    _Column("quantity", _quantity, lambda context: _ABSENT),
    _Column("phone", _phones, lambda context: [], into="phones"),
    _Column("email", _emails, lambda context: [], into="emails"),
    *(_Column(target, _yes, lambda context: None) for target in ("email_consent", "sms_consent")),
    # The consent's proof: where it was given, the version of its wording, when.
    *(_Column(target, _text, lambda context: "") for target in ("consent_source", "consent_wording")),
    _Column("consent_at", _date, lambda context: None),
)


def parse_row(
    line: int, row: dict[str, str], mapping: dict[str, str], kind: str, zone: ZoneInfo, region: str
) -> RowResult:
    """One row as typed values, or the reasons it cannot be imported, column by column from :data:`COLUMNS`."""
    result = RowResult(line=line)
    value = {target: row.get(header, "") for target, header in mapping.items()}
    for target in REQUIRED[kind]:
        if not value.get(target):
            result.errors.append(_("“%(field)s” is empty.") % {"field": target})
    context = _Context(kind=kind, zone=zone, region=region)
    for column in COLUMNS:
        text = value.get(column.target, "")
        try:
            parsed = column.read(text, column.target, context) if text else column.empty(context)
        except _Invalid as invalid:
            result.errors.append(str(invalid))
            parsed = invalid.kept
        if parsed is not _ABSENT:
            result.data[column.into or column.target] = parsed
    data = result.data
    if kind == ImportKind.CUSTOMERS and not (data["customer_id"] or data["phones"] or data["emails"]):
        result.errors.append(_("A customer needs an id, a phone or an email."))
    return result
