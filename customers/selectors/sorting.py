"""The customer list's sort keys and its cursors: which column a key orders by, whether it may be missing, and the
signed position (``shop.paging``) of a row in one sort."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from customers.contrib import extension_sorts
from customers.models import Customer
from shop.paging import CursorError, Position, position_or_start
from shop.paging import make_cursor as make_position_cursor

DEFAULT_SORT = "-last_order"
# Sort keys the page offers → the column; each has an index on (column, id) or is small enough to sort.
SORT_COLUMNS: dict[str, str] = {
    "last_order": "last_order_at",
    "total_spent": "total_spent",
    "orders": "orders_count",
    "created": "created_at",
    "name": "name",
}
# Columns that may be NULL: customers without an order have no last order. They always sort last, both ways.
NULLABLE_COLUMNS = frozenset({"last_order_at"})
# The list's own sorts; apps add theirs through customers.contrib (see ``is_valid_sort``).
VALID_SORTS = frozenset(prefix + key for key in SORT_COLUMNS for prefix in ("", "-"))
# The attribute a page row carries the value of an extension's sort key in (its cursor reads it from there).
SORT_VALUE = "list_sort_value"
CURSOR_SALT = "customers.list.cursor"


def is_valid_sort(sort: str | None) -> bool:
    """A sort the list offers: its own or one an app registered, either direction."""
    key = (sort or "").removeprefix("-")
    return key in SORT_COLUMNS or key in extension_sorts()


def parse_sort(sort: str | None) -> tuple[str, bool]:
    """``"-total_spent"`` → ``("total_spent", True)``; unknown keys fall back to the default sort."""
    text = sort or DEFAULT_SORT
    if not is_valid_sort(text):
        text = DEFAULT_SORT
    return text.removeprefix("-"), text.startswith("-")


@dataclass(frozen=True)
class SortSpec:
    """How the list reads a sort key: the ORM path it orders by, the row attribute its cursor value comes from,
    whether it may be missing (and the condition for the rows without a value, when it is not ``path IS NULL``),
    and whether the value sits on another table (an app's extension)."""

    path: str
    attribute: str
    nullable: bool
    related: bool
    missing: Q | None = None
    tiebreak: str = "id"


def sort_spec(key: str) -> SortSpec:
    if key in SORT_COLUMNS:
        column = SORT_COLUMNS[key]
        return SortSpec(column, column, column in NULLABLE_COLUMNS, related=False)
    # An extension's value lives on a related row that a customer may not have: always nullable.
    extension = extension_sorts()[key]
    return SortSpec(
        extension.path,
        SORT_VALUE,
        nullable=True,
        related=True,
        missing=extension.missing(),
        tiebreak=extension.tiebreak,
    )


def _decode_value(key: str, column: str, text: str | None) -> Any:
    if text is None:
        return None
    extension = extension_sorts().get(key)
    if extension is not None:
        return extension.decode(text)
    if column in {"last_order_at", "created_at"}:
        moment: datetime | None = parse_datetime(text)
        if moment is None:
            raise CursorError(text)
        return moment
    if column == "total_spent":
        return Decimal(text)
    if column == "orders_count":
        return int(text)
    return text


def make_cursor(sort: str, row: Customer, direction: str) -> str:
    """A signed position in the list for this sort: the row's sort value and id, and whether it asks for the page
    after (``n``) or before (``p``) that row."""
    key, _descending = parse_sort(sort)
    value = getattr(row, sort_spec(key).attribute)
    return make_position_cursor(salt=CURSOR_SALT, scope=sort, value=value, pk=row.pk, backwards=direction == "p")


def read_position(cursor: str | None, sort: str) -> tuple[Position, Any] | None:
    """The cursor's position in this sort with its sort value decoded (``None`` for the rows without one), or
    ``None`` for the first page: no cursor, or one this list did not make for this sort."""
    position = position_or_start(cursor, salt=CURSOR_SALT, scope=sort)
    if position is None:
        return None
    key, _descending = parse_sort(sort)
    try:
        return position, _decode_value(key, sort_spec(key).path, position.value)
    except (ArithmeticError, ValueError):
        return None
