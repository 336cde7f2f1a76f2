"""What an app adds to the customer list: columns, filters and sort keys (``Contribution.list``).

The list lives in ``customers``, the bottom of the customer-facing apps, but shows figures that higher apps compute
(scores live in ``scoring``, which imports ``customers``, never the other way round). A higher app describes what it
adds with these dataclasses and registers it in its contribution, from its ``AppConfig.ready``; the list's
selectors, form, page and CSV export then treat the extension's columns like their own. Everything an extension
adds is expressed as ORM paths from ``Customer`` (``"score__importance"``), so ``customers`` never imports the app
that owns the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import Expression, F, Q


@dataclass(frozen=True)
class ListSort:
    """A sort key: the list orders by ``path`` then the customer id, keyset-paginated like the built-in sorts.

    Customers without a value (no related row, or a NULL) come last in both directions, read after the valued
    ones by id; ``missing`` selects them, written as ``NOT EXISTS`` so that PostgreSQL plans an anti-join that walks
    customers by id and stops at a page (a LEFT JOIN … IS NULL whose columns the page also selects is planned as a
    hash join over both whole tables). ``decode`` turns a cursor's text back into the value's type. The valued
    stretch should be an index range scan: ``path`` needs an index on ``(column, customer)`` on its table, and
    ``tiebreak`` is that table's customer column (``"score__customer_id"``), the index's second column."""

    key: str
    path: str
    decode: Callable[[str], Any]
    missing: Callable[[], Q]
    tiebreak: str


@dataclass(frozen=True)
class ListFilter:
    """A filter read from the GET parameter ``name``. ``condition`` turns the cleaned value into a condition on
    ``Customer``; ``implies_orders`` says every customer it admits has a last order, and ``implies_sorts`` the sort
    keys every customer it admits has a value for (so the list can skip their empty stretches, which PostgreSQL
    cannot prove empty without walking them). ``default_sort`` is the order the list takes when this filter is on
    and the person chose none: the order that reads the filter's own index."""

    name: str
    field: Callable[[], forms.Field]
    condition: Callable[[Any], Q]
    implies_orders: bool = False
    implies_sorts: frozenset[str] = frozenset()
    default_sort: str = ""


@dataclass(frozen=True)
class ListColumn:
    """A column header of the list page: its label and the sort key it toggles (or ``""``). The cells come from
    the extension's ``cells_template``."""

    key: str
    label: Any
    sort: str = ""
    numeric: bool = False


@dataclass(frozen=True)
class ExportColumn:
    """A column of the CSV export: ``value(customer, decimal_comma)`` gives the cell (money with the decimal
    separator the spreadsheet expects)."""

    header: Any
    value: Callable[[Any, bool], Any]


@dataclass(frozen=True)
class ListExtension:
    """What one app adds to the list. ``annotations`` are the values its columns read, selected in the page's one
    query (a LEFT JOIN per page row, never a per-row query)."""

    name: str
    annotations: Callable[[], dict[str, Expression | F]] = field(default=lambda: {})
    sorts: tuple[ListSort, ...] = ()
    filters: tuple[ListFilter, ...] = ()
    columns: tuple[ListColumn, ...] = ()
    # Renders the ``<td>`` of every column above for one ``customer``, in order: one include a row, not one a
    # cell (a page of 50 rows would otherwise make 250 includes).
    cells_template: str = ""
    export_columns: tuple[ExportColumn, ...] = ()
    # Rows of the filter form: tuples of filter names laid out side by side.
    form_rows: tuple[tuple[str, ...], ...] = ()
    # The customers a number typed in the search box finds (an order number): a ``values("customer_id")`` queryset
    # read on an index, joined to the phones' last digits in one subquery (customers.search).
    number_search: Callable[[str], Any] | None = None
