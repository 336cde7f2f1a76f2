"""How a page of the customer list is read: the stretches of the list after a position, each one index range scan,
and the row data a page shows (primary contacts, the columns other apps add).

A nullable sort column is read as two stretches, the rows with a value sorted by (value, id) and the NULLs sorted by
id, each an index range scan on ``(column, id)``. ``ORDER BY col DESC NULLS LAST`` in one statement would need an
index of its own and a cursor condition with an OR across NULLs that no index can bound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, prefetch_related_objects

from customers.contrib import extension_annotations
from customers.models import Customer, CustomerEmail, CustomerPhone, Tag
from customers.selectors.sorting import SORT_VALUE, SortSpec
from shop.paging import after, ordering


@dataclass(frozen=True)
class Segment:
    """A stretch of the list read by one index scan: the rows with a value, or the rows without one."""

    condition: Q
    ordering: list[str]
    nulls: bool = False  # the customers without a value in the sort column


def segments_after(
    spec: SortSpec, position: tuple[Any, int] | None, descending: bool, *, nulls_last: bool
) -> list[Segment]:
    """The stretches of the list after ``position`` (a decoded sort value and an id), in list order."""
    column = spec.path
    if not spec.nullable:
        condition = Q()
        if position is not None:
            condition = after(column, position[0], position[1], descending=descending, tiebreak=spec.tiebreak)
        return [Segment(condition, ordering(column, descending=descending))]
    valued = Segment(Q(**{f"{column}__isnull": False}), ordering(column, descending=descending))
    empty_condition = spec.missing if spec.missing is not None else Q(**{f"{column}__isnull": True})
    empty = Segment(empty_condition, ["-id" if descending else "id"], nulls=True)
    in_order = [valued, empty] if nulls_last else [empty, valued]
    if position is None:
        return in_order
    value, pk = position
    if value is None:
        # The cursor is among the NULLs: the rest of them, then (NULLs first) every row with a value.
        step = "lt" if descending else "gt"
        rest = Segment(empty.condition & Q(**{f"id__{step}": pk}), empty.ordering, nulls=True)
        return [rest] if nulls_last else [rest, valued]
    beyond = after(column, value, pk, descending=descending, tiebreak=spec.tiebreak)
    rest = Segment(valued.condition & beyond, valued.ordering)
    # The cursor is among the values: the rest of them, then (NULLs last) every NULL.
    return [rest, empty] if nulls_last else [rest]


def primary_phone_subquery() -> Subquery:
    return Subquery(
        CustomerPhone.objects.filter(customer=OuterRef("pk")).order_by("-is_primary", "id").values("number")[:1]
    )


def primary_email_subquery() -> Subquery:
    return Subquery(
        CustomerEmail.objects.filter(customer=OuterRef("pk")).order_by("-is_primary", "id").values("address")[:1]
    )


def annotated(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """The row data of a list page: the primary phone and email as subqueries in the same SELECT, and the values
    of the columns other apps add (customers.contrib), joined for the page's rows only."""
    return queryset.annotate(
        primary_phone=primary_phone_subquery(), primary_email=primary_email_subquery(), **extension_annotations()
    )


def _with_tags(rows: list[Customer]) -> list[Customer]:
    prefetch_related_objects(rows, Prefetch("tags", queryset=Tag.objects.only("id", "name")))
    return rows


def read_segments(base: QuerySet[Customer], segments: list[Segment], order: list[str], count: int) -> list[Customer]:
    """The first ``count`` rows of the segments, in order, in one statement (UNION ALL of one LIMITed index scan
    per segment), then the page's tags in one more: the same two queries whatever the page size."""
    if not segments:
        return []
    parts = [
        annotated(base.filter(segment.condition)).annotate(segment=Value(index)).order_by(*segment.ordering)[:count]
        for index, segment in enumerate(segments)
    ]
    if len(parts) == 1:
        return _with_tags(list(parts[0]))
    # The segment number keeps the stretches in list order; within the NULLs, ordering by the column is a no-op.
    combined = parts[0].union(*parts[1:], all=True)
    return _with_tags(list(combined.order_by("segment", *order)[:count]))


def read_related_segments(base: QuerySet[Customer], segments: list[Segment], path: str, count: int) -> list[Customer]:
    """Like :func:`read_segments` for a sort on another table's column, but one stretch after the other, each
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
        queryset = annotated(base.filter(segment.condition)).annotate(**{SORT_VALUE: F(path)})
        rows += list(queryset.order_by(*segment.ordering)[:wanted])
    return _with_tags(rows)
