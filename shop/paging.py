"""Keyset pagination, the one way every long list pages (customers, orders, the early warnings).

A page is read from a position ``(sort value, id)`` instead of an OFFSET, so that page 10 000 costs what page 1
costs: the condition below lets PostgreSQL start an index range scan on ``(column, id)`` at the position. The
position travels in the URL as a signed cursor, so a user cannot hand the query a value of their own; the values
are still bound as query parameters, never put into SQL text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Generic, TypeVar

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone

RowT = TypeVar("RowT")
ModelT = TypeVar("ModelT", bound=Model)

FORWARD = "n"
BACKWARD = "p"


class CursorError(ValueError):
    """A cursor that this list did not make for this sort (tampered with, or from another list or sort)."""


@dataclass(frozen=True)
class Position:
    """Where a page starts: the sort value of the row at the edge as the cursor carried it (text, ``None`` when the
    row had none), the row's id, and whether the page lies before that row (walking back) or after it."""

    value: str | None
    pk: int
    backwards: bool


def _encode_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def make_cursor(*, salt: str, scope: str, value: Any, pk: int, backwards: bool) -> str:
    """An opaque, signed position: the page after (or before) the row ``pk`` whose sort value is ``value``.
    ``scope`` names the ordering the position belongs to (a list's sort key), so a cursor of one sort is refused
    by another."""
    payload = {"s": scope, "v": _encode_value(value), "i": pk, "d": BACKWARD if backwards else FORWARD}
    return signing.dumps(payload, salt=salt, compress=True)


def read_cursor(cursor: str, *, salt: str, scope: str) -> Position:
    """The position a cursor made by :func:`make_cursor` with the same salt and scope carries, or CursorError."""
    try:
        payload = signing.loads(cursor, salt=salt)
    except signing.BadSignature as error:
        raise CursorError("bad signature") from error
    if not isinstance(payload, dict) or payload.get("s") != scope or payload.get("d") not in {FORWARD, BACKWARD}:
        raise CursorError("cursor of another list")
    pk, value = payload.get("i"), payload.get("v")
    if not isinstance(pk, int) or not (value is None or isinstance(value, str)):
        raise CursorError("bad position")
    return Position(value=value, pk=pk, backwards=payload["d"] == BACKWARD)


def position_or_start(cursor: str | None, *, salt: str, scope: str) -> Position | None:
    """The cursor's position, or ``None`` (the first page) for no cursor or one that cannot be read: a stale or
    edited link shows the list from the top rather than an error."""
    if not cursor:
        return None
    try:
        return read_cursor(cursor, salt=salt, scope=scope)
    except CursorError:
        return None


def ordering(column: str, *, descending: bool, tiebreak: str = "id") -> list[str]:
    """ORDER BY column then id, both the same way and without a NULLS clause, so that a forward or backward scan
    of the ``(column, id)`` index returns the rows already sorted."""
    prefix = "-" if descending else ""
    return [prefix + column, prefix + tiebreak]


def after(column: str, value: Any, pk: int, *, descending: bool, tiebreak: str = "id") -> Q:
    """Rows strictly after ``(value, pk)`` in :func:`ordering`'s order, ``value`` not NULL.

    Written as ``col <= v AND (col < v OR id < pk)`` rather than a single OR so that PostgreSQL uses the leading
    column as an index condition and starts the scan at the cursor. ``tiebreak`` is the row id as the sort column's
    own table holds it (``score__customer_id``), so that rows of a tie already passed are skipped in the index scan,
    not after a join."""
    step = "lt" if descending else "gt"
    near = "lte" if descending else "gte"
    return Q(**{f"{column}__{near}": value}) & (Q(**{f"{column}__{step}": value}) | Q(**{f"{tiebreak}__{step}": pk}))


def page_cursors(
    rows: Sequence[RowT],
    *,
    has_more: bool,
    position: Position | None,
    cursor_of: Callable[[RowT, bool], str],
) -> tuple[str | None, str | None]:
    """``(next, previous)`` cursors of a page already turned into list order. ``has_more`` says whether a row lay
    beyond the page in the direction it was read; ``cursor_of(row, backwards)`` makes a cursor at a row."""
    if not rows:
        return None, None
    if position is not None and position.backwards:
        # Walked back from a later page: there is always a next page, and a previous one only if more rows lay back.
        return cursor_of(rows[-1], False), cursor_of(rows[0], True) if has_more else None
    return (cursor_of(rows[-1], False) if has_more else None), (cursor_of(rows[0], True) if position else None)


@dataclass
class KeysetPage(Generic[RowT]):
    rows: list[RowT]
    next_cursor: str | None
    previous_cursor: str | None


def keyset_page(
    queryset: QuerySet[ModelT],
    *,
    column: str,
    descending: bool,
    cursor: str | None,
    salt: str,
    decode: Callable[[str], Any],
    limit: int,
    tiebreak: str = "id",
) -> KeysetPage[ModelT]:
    """One page of ``queryset`` ordered by ``(column, id)`` (a column that is never NULL), after or before the
    cursor's position; an unreadable cursor starts from the first page. One query whatever the page size (plus
    whatever the queryset's own ``select_related`` joins). ``tiebreak`` is the primary key's column when it is not
    ``id``."""
    position = position_or_start(cursor, salt=salt, scope=column)
    # Walking back, read the list in the reverse order and turn the page round afterwards.
    read_descending = descending != bool(position and position.backwards)
    if position is not None:
        try:
            value = decode(position.value or "")
        except (ArithmeticError, ValueError, TypeError):
            position, read_descending = None, descending
        else:
            queryset = queryset.filter(after(column, value, position.pk, descending=read_descending, tiebreak=tiebreak))
    rows = list(queryset.order_by(*ordering(column, descending=read_descending, tiebreak=tiebreak))[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    if position is not None and position.backwards:
        rows.reverse()

    def cursor_of(row: ModelT, backwards: bool) -> str:
        return make_cursor(salt=salt, scope=column, value=getattr(row, column), pk=row.pk, backwards=backwards)

    next_cursor, previous_cursor = page_cursors(rows, has_more=has_more, position=position, cursor_of=cursor_of)
    return KeysetPage(rows=rows, next_cursor=next_cursor, previous_cursor=previous_cursor)


# --- The pages around a list: its page size and the links that move through it -----------------------------------

PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)


def page_size(request: HttpRequest) -> int:
    """The rows per page the reader chose (``?size=``), one of the offered sizes, else the default."""
    try:
        size = int(request.GET.get("size", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return size if size in PAGE_SIZES else PAGE_SIZE


def query_with(request: HttpRequest, **changes: str | None) -> str:
    """The current query string with some parameters replaced (``None`` removes one), for a link on the page."""
    query: QueryDict = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    encoded = query.urlencode()
    return "?" + encoded if encoded else ""


def page_links(request: HttpRequest, *, next_cursor: str | None, previous_cursor: str | None) -> dict[str, str | None]:
    """``next_url`` and ``previous_url`` of a keyset page: the same filters and sort, another cursor."""
    return {
        "next_url": query_with(request, cursor=next_cursor) if next_cursor else None,
        "previous_url": query_with(request, cursor=previous_cursor) if previous_cursor else None,
    }


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the current time zone (a filter's "from" day, or the day after its "to")."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
