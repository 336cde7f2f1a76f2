"""Reads of the customers app: the customer list with keyset pagination, the card's parts, the scoped accessor.

The list is built for a million customers: it filters and sorts on the order summary kept on the customer row
(``orders_count``, ``total_spent``, ``first_order_at``, ``last_order_at``), pages by keyset on ``(sort column, id)``
instead of OFFSET, and never counts the whole table (the unfiltered total is PostgreSQL's own estimate).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.contrib import extension_annotations, extension_filters, extension_sorts
from customers.models import (
    ConsentChange,
    Customer,
    CustomerEmail,
    CustomerMerge,
    CustomerPhone,
    Note,
    Tag,
)
from customers.search import SearchKind as SearchKind  # the list's callers (the form, the benchmark) name it here
from customers.search import search_condition
from shop.permissions import user_can
from shop.roles import Capability

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


class CursorError(ValueError):
    """A cursor that was not made by this list for this sort (tampered with, expired or from another sort)."""


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
class _SortSpec:
    """How the list reads a sort key: the ORM path it orders by, the row attribute its cursor value comes from,
    whether it may be missing (and the condition for the rows without a value, when it is not ``path IS NULL``),
    and whether the value sits on another table (an app's extension)."""

    path: str
    attribute: str
    nullable: bool
    related: bool
    missing: Q | None = None
    tiebreak: str = "id"


def _sort_spec(key: str) -> _SortSpec:
    if key in SORT_COLUMNS:
        column = SORT_COLUMNS[key]
        return _SortSpec(column, column, column in NULLABLE_COLUMNS, related=False)
    # An extension's value lives on a related row that a customer may not have: always nullable.
    extension = extension_sorts()[key]
    return _SortSpec(
        extension.path,
        SORT_VALUE,
        nullable=True,
        related=True,
        missing=extension.missing(),
        tiebreak=extension.tiebreak,
    )


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
    )
    if filters.orders_min is not None:
        queryset = queryset.filter(orders_count__gte=filters.orders_min)
    if filters.orders_max is not None:
        queryset = queryset.filter(orders_count__lte=filters.orders_max)
    if filters.spent_min is not None:
        queryset = queryset.filter(total_spent__gte=filters.spent_min)
    if filters.spent_max is not None:
        queryset = queryset.filter(total_spent__lte=filters.spent_max)
    registered = extension_filters()
    for name, value in filters.extra:
        if name in registered:
            queryset = queryset.filter(registered[name].condition(value))
    return queryset


def _ordering(column: str, descending: bool) -> list[str]:
    """ORDER BY column then id, both the same way and without a NULLS clause, so that a forward or backward scan
    of the ``(column, id)`` index returns the rows already sorted."""
    prefix = "-" if descending else ""
    return [prefix + column, prefix + "id"]


def _after(column: str, value: Any, pk: int, descending: bool, tiebreak: str = "id") -> Q:
    """Rows strictly after ``(value, pk)`` in :func:`_ordering`'s order, ``value`` not NULL.

    Written as ``col <= v AND (col < v OR id < pk)`` rather than a single OR so that PostgreSQL uses the leading
    column as an index condition and starts the scan at the cursor: page 10 000 costs what page 1 costs.
    ``tiebreak`` is the customer id as the sort column's own table holds it (``score__customer_id``), so that
    rows of a tie already passed are skipped in the index scan, not after a join to the customer row."""
    step = "lt" if descending else "gt"
    near = "lte" if descending else "gte"
    return Q(**{f"{column}__{near}": value}) & (Q(**{f"{column}__{step}": value}) | Q(**{f"{tiebreak}__{step}": pk}))


@dataclass(frozen=True)
class _Segment:
    """A stretch of the list read by one index scan: the rows with a value, or the rows without one."""

    condition: Q
    ordering: list[str]
    nulls: bool = False  # the customers without a value in the sort column


def _segments(
    column: str,
    position: tuple[Any, int] | None,
    descending: bool,
    nulls_last: bool,
    *,
    nullable: bool,
    missing: Q | None = None,
    tiebreak: str = "id",
) -> list[_Segment]:
    """The stretches of the list after ``position``, in list order.

    A nullable column is read as two stretches, the rows with a value sorted by (value, id) and the NULLs sorted by
    id, each an index range scan on ``(column, id)``. ``ORDER BY col DESC NULLS LAST`` in one statement would need
    an index of its own and a cursor condition with an OR across NULLs that no index can bound."""
    if not nullable:
        condition = Q() if position is None else _after(column, position[0], position[1], descending, tiebreak)
        return [_Segment(condition, _ordering(column, descending))]
    step = "lt" if descending else "gt"
    valued = _Segment(Q(**{f"{column}__isnull": False}), _ordering(column, descending))
    empty_condition = missing if missing is not None else Q(**{f"{column}__isnull": True})
    empty = _Segment(empty_condition, ["-id" if descending else "id"], nulls=True)
    in_order = [valued, empty] if nulls_last else [empty, valued]
    if position is None:
        return in_order
    value, pk = position
    if value is None:
        # The cursor is among the NULLs: the rest of them, then (NULLs first) every row with a value.
        rest = _Segment(empty.condition & Q(**{f"id__{step}": pk}), empty.ordering, nulls=True)
        return [rest] if nulls_last else [rest, valued]
    rest = _Segment(valued.condition & _after(column, value, pk, descending, tiebreak), valued.ordering)
    # The cursor is among the values: the rest of them, then (NULLs last) every NULL.
    return [rest, empty] if nulls_last else [rest]


def _read_segments(
    base: QuerySet[Customer], segments: list[_Segment], ordering: list[str], count: int
) -> list[Customer]:
    """The first ``count`` rows of the segments, in order, in one statement (UNION ALL of one LIMITed index scan
    per segment), then the page's tags in one more: the same two queries whatever the page size."""
    if not segments:
        return []
    parts = [
        _annotated(base.filter(segment.condition)).annotate(segment=Value(index)).order_by(*segment.ordering)[:count]
        for index, segment in enumerate(segments)
    ]
    combined = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    # The segment number keeps the stretches in list order; within the NULLs, ordering by the column is a no-op.
    rows: list[Customer] = list(combined.order_by("segment", *ordering)[:count]) if len(parts) > 1 else list(combined)
    prefetch_related_objects(rows, Prefetch("tags", queryset=Tag.objects.only("id", "name")))
    return rows


def _read_related_segments(base: QuerySet[Customer], segments: list[_Segment], path: str, count: int) -> list[Customer]:
    """Like :func:`_read_segments` for a sort on another table's column, but one stretch after the other, each
    only while the page is not full.

    The valued stretch walks the other table's ``(column, customer)`` index. The stretch of customers without a
    value is an anti-join that PostgreSQL can only bound by walking customers until it has found enough; when
    nearly everyone has a value that walk is long, so it runs only on the page where the valued stretch ends,
    not on every page as a UNION ALL would make it."""
    rows: list[Customer] = []
    for segment in segments:
        wanted = count - len(rows)
        if wanted <= 0:
            break
        queryset = _annotated(base.filter(segment.condition)).annotate(**{SORT_VALUE: F(path)})
        rows += list(queryset.order_by(*segment.ordering)[:wanted])
    prefetch_related_objects(rows, Prefetch("tags", queryset=Tag.objects.only("id", "name")))
    return rows


def _encode_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _decode_value(key: str, column: str, text: str | None) -> Any:
    if text is None:
        return None
    extension = extension_sorts().get(key)
    if extension is not None:
        return extension.decode(text)
    if column in {"last_order_at", "created_at"}:
        moment = parse_datetime(text)
        if moment is None:
            raise CursorError(text)
        return moment
    if column == "total_spent":
        return Decimal(text)
    if column == "orders_count":
        return int(text)
    return text


def make_cursor(sort: str, row: Customer, direction: str) -> str:
    """An opaque, signed position in the list: the sort it belongs to, the row's sort value and id, and whether
    it asks for the page after (``n``) or before (``p``) that row. Signed so a user cannot hand the query a value
    of their own; the values are still bound as query parameters, never put into SQL text."""
    key, _descending = parse_sort(sort)
    spec = _sort_spec(key)
    payload = {"s": sort, "v": _encode_value(getattr(row, spec.attribute)), "i": row.pk, "d": direction}
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def read_cursor(cursor: str, sort: str) -> tuple[Any, int, str]:
    """``(sort value, id, direction)`` of a cursor made by :func:`make_cursor` for this sort, or CursorError."""
    try:
        payload = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature as error:
        raise CursorError("bad signature") from error
    if not isinstance(payload, dict) or payload.get("s") != sort or payload.get("d") not in {"n", "p"}:
        raise CursorError("cursor of another list")
    key, _descending = parse_sort(sort)
    pk = payload.get("i")
    if not isinstance(pk, int):
        raise CursorError("bad id")
    try:
        value = _decode_value(key, _sort_spec(key).path, payload.get("v"))
    except (ArithmeticError, ValueError) as error:
        raise CursorError("bad value") from error
    return value, pk, payload["d"]


def primary_phone_subquery() -> Subquery:
    return Subquery(
        CustomerPhone.objects.filter(customer=OuterRef("pk")).order_by("-is_primary", "id").values("number")[:1]
    )


def primary_email_subquery() -> Subquery:
    return Subquery(
        CustomerEmail.objects.filter(customer=OuterRef("pk")).order_by("-is_primary", "id").values("address")[:1]
    )


def _annotated(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """The row data of a list page: the primary phone and email as subqueries in the same SELECT, and the values
    of the columns other apps add (customers.contrib), joined for the page's rows only."""
    return queryset.annotate(
        primary_phone=primary_phone_subquery(), primary_email=primary_email_subquery(), **extension_annotations()
    )


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
    spec = _sort_spec(key)
    base = customer_queryset(filters)

    direction = "n"
    position: tuple[Any, int] | None = None
    if cursor:
        try:
            value, pk, direction = read_cursor(cursor, sort)
            position = (value, pk)
        except CursorError:
            direction, position = "n", None

    backwards = direction == "p"
    # Walking back, read the list in the reverse order (NULLs first) and turn the page round afterwards.
    order_descending = descending != backwards
    segments = _segments(
        spec.path,
        position,
        order_descending,
        nulls_last=not backwards,
        nullable=spec.nullable,
        missing=spec.missing,
        tiebreak=spec.tiebreak,
    )
    if spec.nullable and _has_values(filters, key):
        # Every customer the filters admit has a value (a filter on orders means a last order): the NULL stretch is
        # empty, but PostgreSQL cannot see that and would walk the whole table to prove it.
        segments = [segment for segment in segments if not segment.nulls]
    if spec.related:
        rows = _read_related_segments(base, segments, spec.path, limit + 1)
    else:
        rows = _read_segments(base, segments, _ordering(spec.path, order_descending), limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()

    if backwards:
        next_cursor = make_cursor(sort, rows[-1], "n") if rows else None
        previous_cursor = make_cursor(sort, rows[0], "p") if rows and has_more else None
    else:
        next_cursor = make_cursor(sort, rows[-1], "n") if rows and has_more else None
        previous_cursor = make_cursor(sort, rows[0], "p") if rows and position is not None else None

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


def customer_for_user(user: Any, pk: int) -> Customer:
    """The one accessor for a customer addressed by an id from a URL.

    Managers and owners (BROWSE) reach any customer; operators (LOOKUP only) may open the card of a customer they
    found by lookup or search, read-only — every edit view additionally requires BROWSE. Anyone else gets 403;
    an unknown id 404. A merged customer is returned as is: the card view redirects to the survivor."""
    if not (user_can(user, Capability.BROWSE) or user_can(user, Capability.LOOKUP)):
        raise PermissionDenied
    customer = Customer.objects.select_related("referred_by", "merged_into").filter(pk=pk).first()
    if customer is None:
        raise Http404
    return customer


def survivor_of(customer: Customer) -> Customer:
    """The customer a merged one finally lives on as (merges can chain: A → B, then B → C)."""
    seen = {customer.pk}
    current = customer
    while current.merged_into_id is not None and current.merged_into_id not in seen:
        seen.add(current.merged_into_id)
        current = Customer.objects.select_related("merged_into").get(pk=current.merged_into_id)
    return current


def customer_contacts(customer: Customer) -> tuple[list[CustomerPhone], list[CustomerEmail]]:
    return list(customer.phones.all()), list(customer.emails.all())


def customer_tags(customer: Customer) -> list[Tag]:
    return list(customer.tags.all())


def customer_consent_history(customer: Customer, limit: int = 20) -> list[ConsentChange]:
    return list(customer.consent_changes.all()[:limit])


def customer_merges(customer: Customer) -> list[CustomerMerge]:
    return list(customer.merges.select_related("merged_by"))


def notes_for_customer(customer: Customer, limit: int = 100) -> list[Note]:
    # Saving a note stamps updated_at a moment after created_at; only a later change counts as an edit.
    edited = ExpressionWrapper(Q(updated_at__gt=F("created_at") + timedelta(minutes=1)), output_field=BooleanField())
    notes = Note.objects.filter(customer=customer).select_related("author").annotate(was_edited=edited)
    return list(notes.order_by("-created_at", "-id")[:limit])


def note_for_customer(customer: Customer, note_id: int) -> Note:
    """A note addressed by id, only within the customer the user already reached through customer_for_user."""
    note = Note.objects.filter(customer=customer, pk=note_id).select_related("author").first()
    if note is None:
        raise Http404
    return note


def phone_owner(number: str) -> Customer | None:
    """The customer who owns ``number`` (E.164), or ``None``: the survivor if that customer was merged (a merge
    moves the phones, but a number added to the merged record later, or a chain of merges, still lands here). The
    one phone lookup: the merge page, the screen-pop and the lookup API all mean the person, not a stale record."""
    phone = CustomerPhone.objects.filter(number=number).select_related("customer").first()
    return survivor_of(phone.customer) if phone else None


def tag_choices() -> QuerySet[Tag]:
    return Tag.objects.only("id", "name").order_by("name")


def random_phone_number() -> str | None:
    """A phone number of a customer who was not merged away, drawn at random without scanning the table (a random id
    between the lowest and the highest, then the first number at or after it); None when nobody has one."""
    numbers = CustomerPhone.objects.filter(customer__merged_into__isnull=True)
    bounds = numbers.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return None
    pick = random.randint(bounds["low"], bounds["high"])
    return numbers.filter(pk__gte=pick).order_by("pk").values_list("number", flat=True).first()


def acquisition_rows() -> QuerySet[Customer, Any]:
    """Every customer who has ordered, with where they came from and their order summary: (id, channel,
    utm_campaign, first_order_at, orders_count). Set-based reads (analytics' monthly aggregates) compose it as a
    subquery; merged customers are left out, their orders belong to the survivor."""
    return (
        Customer.objects.active()
        .filter(first_order_at__isnull=False)
        .values("id", "channel", "utm_campaign", "first_order_at", "orders_count")
    )


def customers_by_ids(ids: list[int]) -> dict[int, Customer]:
    """A page's customers by id (names and contacts shown next to another app's figures)."""
    return {customer.pk: customer for customer in Customer.objects.filter(pk__in=ids)}
