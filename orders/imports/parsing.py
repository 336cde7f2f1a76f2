"""Reading a shop's CSV the way Russian and English spreadsheets write it: encodings, separators, headers, dates,
amounts and statuses. Pure functions: each row becomes data or a list of reasons why it cannot."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from customers.contacts import EmailError, normalize_email
from orders.imports.fields import (
    CUSTOMER_FIELDS,
    FIELD_LABELS,
    MAX_AMOUNT,
    MAX_QUANTITY,
    ORDER_FIELDS,
    ORDER_LEVEL,
    PAYMENT_BY_WORD,
    REQUIRED,
    STATUS_BY_WORD,
    combined_status,
    fields_for,
    label,
)
from orders.imports.presets import detect_preset, preset_mapping
from orders.imports.reading import CsvFormatError, detect_delimiter, detect_encoding, open_rows
from orders.models import ImportKind, OrderStatus
from shop.money import MoneyError, to_money
from shop.phones import PhoneError, normalize_phone

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


def auto_mapping(headers: list[str], kind: str) -> dict[str, str]:
    """Target field → the file's header that names it: a platform's preset when the headers are its export,
    else every header we recognise by its usual spellings."""
    preset = detect_preset(headers, kind)
    if preset is not None:
        return preset_mapping(preset, headers)
    mapping: dict[str, str] = {}
    for header in headers:
        spelled = header.strip().lower()
        for target, spellings in fields_for(kind).items():
            if spelled in spellings and target not in mapping:
                mapping[target] = header
                break
    return mapping


@dataclass
class RowResult:
    """One line of the file: its typed values, the reasons it cannot be imported, the fields whose cells were
    filled (an order's later lines leave its order-level cells empty) and the row as it was written."""

    line: int
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    filled: frozenset[str] = frozenset()
    raw: dict[str, str] = field(default_factory=dict)


def parse_date(text: str, zone: ZoneInfo) -> datetime:
    parsed = parse_datetime(text.replace(" ", "T", 1)) if "T" in text or "+" in text else None
    if parsed is not None:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ValueError(_("“%(value)s” is not a date (use 2026-03-01 or 01.03.2026).") % {"value": text[:60]})


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


# The columns' lengths: a longer value is refused with its reason rather than failing the whole import.
TEXT_LIMITS = {
    "external_id": 120,
    "customer_id": 120,
    "sku": 80,
    "category": 120,
    "city": 120,
    "utm_source": 120,
    "utm_medium": 120,
    "utm_campaign": 200,
    "address": 1000,
}
TEXT_LIMIT = 255


def _text(text: str, name: str, context: _Context) -> str:
    limit = TEXT_LIMITS.get(name, TEXT_LIMIT)
    if len(text) > limit and name not in {"currency", "promo_code"}:
        raise _Invalid(
            _("%(field)s is longer than %(limit)s characters.") % {"field": label(name), "limit": limit}, text[:limit]
        )
    return text


def _date(text: str, name: str, context: _Context) -> datetime:
    try:
        return parse_date(text, context.zone)
    except ValueError as error:
        raise _Invalid(str(error), _ABSENT) from error


def _status(text: str, name: str, context: _Context) -> str:
    status = STATUS_BY_WORD.get(text.lower())
    if status is None:
        raise _Invalid(_("Unknown status “%(value)s”.") % {"value": text[:60]}, "")
    return status


def _money(text: str, name: str, context: _Context) -> Decimal:
    not_amount = _("%(field)s: “%(value)s” is not an amount.") % {"field": label(name), "value": text[:40]}
    try:
        amount = to_money(text)
    except (MoneyError, ArithmeticError) as error:  # an exponent too large to quantise is not money either
        raise _Invalid(not_amount) from error
    if abs(amount) >= MAX_AMOUNT:
        raise _Invalid(not_amount)
    name = label(name)
    if amount < 0:
        raise _Invalid(_("%(field)s: %(value)s is negative.") % {"field": name, "value": amount}, amount)
    return amount


def _quantity(text: str, name: str, context: _Context) -> Decimal:
    reason = _("Quantity “%(value)s” is not a positive number.") % {"value": text[:40]}
    try:
        quantity = Decimal(text.replace(",", ".").replace(" ", ""))
    except ArithmeticError as error:
        raise _Invalid(reason, _ABSENT) from error
    try:
        positive = 0 < quantity < MAX_QUANTITY
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


def _payment(text: str, name: str, context: _Context) -> str:
    payment = PAYMENT_BY_WORD.get(text.lower())
    if payment is None:
        raise _Invalid(_("Unknown payment status “%(value)s”.") % {"value": text[:60]}, "")
    return payment


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
    "last_name",
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
    _Column("payment_status", _payment, lambda context: ""),
    *(
        _Column(target, _money, lambda context: None)
        for target in ("total", "delivery_cost", "discount_total", "tax", "price", "line_total")
    ),
    _Column("quantity", _quantity, lambda context: _ABSENT),
    _Column("phone", _phones, lambda context: [], into="phones"),
    _Column("email", _emails, lambda context: [], into="emails"),
    *(_Column(target, _yes, lambda context: None) for target in ("email_consent", "sms_consent")),
    # The consent's proof: where it was given, the version of its wording, when.
    *(_Column(target, _text, lambda context: "") for target in ("consent_source", "consent_wording")),
    _Column("consent_at", _date, lambda context: None),
)


def _read_columns(value: dict[str, str], context: _Context, result: RowResult) -> None:
    """Each column of :data:`COLUMNS` typed into ``result.data``, or its reason into ``result.errors`` (keeping
    what the reader could salvage, so the preview still shows it)."""
    for column in COLUMNS:
        text = value.get(column.target, "")
        try:
            parsed = column.read(text, column.target, context) if text else column.empty(context)
        except _Invalid as invalid:
            result.errors.append(str(invalid))
            parsed = invalid.kept
        if parsed is not _ABSENT:
            result.data[column.into or column.target] = parsed


def parse_row(
    line: int,
    row: dict[str, str],
    mapping: dict[str, str],
    kind: str,
    zone: ZoneInfo,
    region: str,
    continuation: bool = False,
) -> RowResult:
    """One row as typed values, or the reasons it cannot be imported, column by column from :data:`COLUMNS`.
    A ``continuation`` row (a later item of an order already begun) needs only the order number: the order's own
    fields are on its first row."""
    value = {target: row.get(header, "") for target, header in mapping.items()}
    result = RowResult(line=line, filled=frozenset(t for t, text in value.items() if text), raw=row)
    required = REQUIRED[kind][:1] if continuation else REQUIRED[kind]
    result.errors += [
        _("“%(field)s” is empty.") % {"field": label(target)} for target in required if not value.get(target)
    ]
    _read_columns(value, _Context(kind=kind, zone=zone, region=region), result)
    data = result.data
    if data.get("payment_status"):
        data["status"] = combined_status(data["status"] if "status" in result.filled else None, data["payment_status"])
    if data.get("last_name"):
        # A surname kept in its own column (WooCommerce's billing_last_name, "Фамилия") joins the name.
        data["name"] = " ".join(part for part in (data["name"], data["last_name"]) if part)
    if kind == ImportKind.CUSTOMERS and not (data["customer_id"] or data["phones"] or data["emails"]):
        result.errors.append(_("A customer needs an id, a phone or an email."))
    return result


__all__ = [
    "CUSTOMER_FIELDS",
    "FIELD_LABELS",
    "ORDER_FIELDS",
    "ORDER_LEVEL",
    "REQUIRED",
    "CsvFormatError",
    "RowResult",
    "auto_mapping",
    "detect_delimiter",
    "detect_encoding",
    "fields_for",
    "label",
    "open_rows",
    "parse_row",
]
