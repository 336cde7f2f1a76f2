"""Reads of the customers app, by topic: the list (``listing``: filters, keyset pages, batches for exports, the
count), its sorts and cursors (``sorting``), how a page is read (``segments``), and one customer with its parts
(``records``: the scoped accessor, the phone lookup, the card's reads). Callers import from here."""

from customers.search import SearchKind as SearchKind  # the list's callers (the form, the benchmark) name it here
from customers.selectors.listing import (
    EXACT_COUNT_BELOW,
    CustomerFilters,
    CustomerPage,
    customer_batches,
    customer_count_estimate,
    customer_list,
    customer_queryset,
)
from customers.selectors.records import (
    acquisition_rows,
    customer_columns,
    customer_consent_history,
    customer_contacts,
    customer_for_user,
    customer_from_columns,
    customer_merges,
    customer_tags,
    customers_by_ids,
    customers_with_id,
    customers_with_number,
    note_for_customer,
    notes_for_customer,
    phone_owner,
    random_phone_number,
    survivor_of,
    tag_choices,
)
from customers.selectors.sorting import (
    CURSOR_SALT,
    DEFAULT_SORT,
    SORT_COLUMNS,
    VALID_SORTS,
    is_valid_sort,
    make_cursor,
    parse_sort,
)
from shop.paging import CursorError

__all__ = [
    "CURSOR_SALT",
    "DEFAULT_SORT",
    "EXACT_COUNT_BELOW",
    "SORT_COLUMNS",
    "VALID_SORTS",
    "CursorError",
    "CustomerFilters",
    "CustomerPage",
    "SearchKind",
    "acquisition_rows",
    "customer_batches",
    "customer_columns",
    "customer_consent_history",
    "customer_contacts",
    "customer_count_estimate",
    "customer_for_user",
    "customer_from_columns",
    "customer_list",
    "customer_merges",
    "customer_queryset",
    "customer_tags",
    "customers_by_ids",
    "customers_with_id",
    "customers_with_number",
    "is_valid_sort",
    "make_cursor",
    "note_for_customer",
    "notes_for_customer",
    "parse_sort",
    "phone_owner",
    "random_phone_number",
    "survivor_of",
    "tag_choices",
]
