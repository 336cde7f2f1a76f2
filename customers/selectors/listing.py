"""The customer list, built for a million customers: it filters and sorts on the order summary kept on the customer
row (``orders_count``, ``total_spent``, ``first_order_at``, ``last_order_at``), pages by keyset on ``(sort column,
id)`` instead of OFFSET (``shop.paging``), and never counts the whole table (the unfiltered total is PostgreSQL's
own estimate)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.contrib import extension_filters
from customers.models import Customer
from customers.search import search_condition
from customers.selectors.segments import read_related_segments, read_segments, segments_after
from customers.selectors.sorting import (
    DEFAULT_SORT,
    SORT_COLUMNS,
    is_valid_sort,
    make_cursor,
    parse_sort,
    read_position,
    sort_spec,
)
from shop.paging import ordering, page_cursors

# Below this many rows an exact count is as cheap as the estimate and reads better than "≈ 37".
EXACT_COUNT_BELOW = 10_000


@dataclass(frozen=True)
class CustomerFilters:
    """What the list is narrowed to; every field optional. Built by ``customers.forms.CustomerFilterForm``."""

    search_kind: str = ""
    search: str = ""
    tag_id: int | None = None
    channel: str = ""
    first_order_from: date | None = None
    first_order_to: date | None = None
    last_order_from: date | None = None
    last_order_to: date | None = None
    orders_min: int | None = None
    orders_max: int | None = None
    spent_min: Decimal | None = None
    spent_max: Decimal | None = None
    # Filters added by other apps (customers.contrib): (name, cleaned value) pairs, only those given.
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def is_empty(self) -> bool:
        return self == CustomerFilters()


@dataclass
class CustomerPage:
    rows: list[Customer]
    next_cursor: str | None
    previous_cursor: str | None
    # Only when unfiltered: the number of customers, exact on a small base and estimated on a large one.
    total: int | None = None
    total_is_estimate: bool = False
    sort: str = DEFAULT_SORT


def _day_start(day: date) -> datetime:
    """Midnight of a day in the current (shop's) time zone: a manager's "from 1 March" means their 1 March."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _date_range(prefix: str, start: date | None, end: date | None) -> Q:
    condition = Q()
    if start is not None:
        condition &= Q(**{f"{prefix}__gte": _day_start(start)})
    if end is not None:
        condition &= Q(**{f"{prefix}__lt": _day_start(end + timedelta(days=1))})
    return condition


def _bounds(field: str, low: Any, high: Any) -> Q:
    condition = Q()
    if low is not None:
        condition &= Q(**{f"{field}__gte": low})
    if high is not None:
        condition &= Q(**{f"{field}__lte": high})
    return condition


def customer_queryset(filters: CustomerFilters) -> QuerySet[Customer]:
    """Active (not merged) customers narrowed by the filters; no ordering, no row data yet."""
    queryset = Customer.objects.active()
    if filters.search:
        queryset = queryset.filter(search_condition(filters.search_kind, filters.search))
    if filters.tag_id is not None:
        # The (customer, tag) pair is unique, so the join never repeats a customer.
        queryset = queryset.filter(tags__id=filters.tag_id)
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    queryset = queryset.filter(
        _date_range("first_order_at", filters.first_order_from, filters.first_order_to),
        _date_range("last_order_at", filters.last_order_from, filters.last_order_to),
        _bounds("orders_count", filters.orders_min, filters.orders_max),
        _bounds("total_spent", filters.spent_min, filters.spent_max),
    )
    registered = extension_filters()
    for name, value in filters.extra:
        if name in registered:
            queryset = queryset.filter(registered[name].condition(value))
    return queryset


def customer_list(
    filters: CustomerFilters,
    sort: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    *,
    with_total: bool = True,
) -> CustomerPage:
    """One page of customers after (or before) ``cursor``. An unreadable cursor starts from the first page.
    ``with_total`` adds the number of customers when the list is unfiltered (one more query)."""
    sort = sort if sort and is_valid_sort(sort) else DEFAULT_SORT
    key, descending = parse_sort(sort)
    spec = sort_spec(key)
    found = read_position(cursor, sort)
    position = found[0] if found else None
    backwards = position is not None and position.backwards
    # Walking back, read the list in the reverse order (NULLs first) and turn the page round afterwards.
    read_descending = descending != backwards
    segments = segments_after(
        spec, (found[1], found[0].pk) if found else None, read_descending, nulls_last=not backwards
    )
    if spec.nullable and _has_values(filters, key):
        # Every customer the filters admit has a value (a filter on orders means a last order): the NULL stretch is
        # empty, but PostgreSQL cannot see that and would walk the whole table to prove it.
        segments = [segment for segment in segments if not segment.nulls]
    base = customer_queryset(filters)
    if spec.related:
        rows = read_related_segments(base, segments, spec.path, limit + 1)
    else:
        rows = read_segments(base, segments, ordering(spec.path, descending=read_descending), limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()

    def cursor_of(row: Customer, back: bool) -> str:
        return make_cursor(sort, row, "p" if back else "n")

    next_cursor, previous_cursor = page_cursors(rows, has_more=has_more, position=position, cursor_of=cursor_of)
    page = CustomerPage(rows=rows, next_cursor=next_cursor, previous_cursor=previous_cursor, sort=sort)
    if with_total and filters.is_empty:
        page.total, page.total_is_estimate = customer_count_estimate()
    return page


def _has_values(filters: CustomerFilters, key: str) -> bool:
    """Whether every customer the filters admit has a value for the sort key ``key``."""
    registered = extension_filters()
    implied = [registered[name] for name, _value in filters.extra if name in registered]
    if key in SORT_COLUMNS:
        return _has_orders(filters) or any(item.implies_orders for item in implied)
    return any(key in item.implies_sorts for item in implied)


def _has_orders(filters: CustomerFilters) -> bool:
    """Whether every customer the filters admit has at least one order (so a last-order date)."""
    return bool(
        filters.last_order_from
        or filters.last_order_to
        or filters.first_order_from
        or filters.first_order_to
        or (filters.orders_min or 0) > 0
        or (filters.spent_min or 0) > 0
    )


def customer_batches(
    filters: CustomerFilters, sort: str | None = None, batch_size: int = 2000
) -> Iterator[list[Customer]]:
    """Every matching customer, batch by batch on the keyset, for exports: memory stays at one batch whatever
    the size of the base, and each batch is an index range scan, not an ever-growing OFFSET."""
    cursor: str | None = None
    while True:
        page = customer_list(filters, sort, cursor, batch_size, with_total=False)
        if page.rows:
            yield page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def customer_count_estimate() -> tuple[int, bool]:
    """``(number of customers, whether it is an estimate)``.

    A large table is never counted: ``pg_class.reltuples`` is the planner's estimate, kept fresh by autovacuum, and
    costs one index lookup. It counts merged customers too, which a rounded "≈ 1.0 M" absorbs. A small or
    never-analysed table (reltuples -1) is counted exactly, which is cheap at that size."""
    with connection.cursor() as db:
        db.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [Customer._meta.db_table])
        found = db.fetchone()
    estimate = int(found[0]) if found else -1
    if estimate >= EXACT_COUNT_BELOW:
        return estimate, True
    return Customer.objects.active().count(), False
