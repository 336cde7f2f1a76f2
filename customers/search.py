"""The customer list's search box: what a typed text finds, each way built to stay an index lookup on a million
customers.

- an email: the unique address, lower-cased;
- a whole phone number in any format: the unique E.164 number;
- a number too short or too odd to be a whole phone ("4567", "12-34", "#1001"): the phones that END in its digits
  (four at least: fewer would match a tenth of the base), read on the ``reverse(number)`` index as a prefix
  (customers migration 0006), and the orders with that number, which the orders app contributes through
  ``ListExtension.number_search`` (customers may not import orders);
- anything else: a name, each word anywhere in it and in any order ("Иванова Мария" finds "Мария Иванова"), every
  word an ``icontains`` on ``UPPER(name)``, the expression of the trigram index (migration 0002), so Cyrillic is
  matched without regard to case; a single word with a digit in it ("A-1001") may also be an order number.

The ways that read other tables are one ``id IN (… UNION …)`` subquery, which PostgreSQL plans as a semi-join
from the few ids found, never a scan of the customers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Reverse

from customers.contrib import list_extensions
from customers.models import Customer, CustomerEmail, CustomerPhone


class SearchKind:
    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    # A phone's last digits or an order number (see the module's docstring).
    NUMBER = "number"


# Fewer trailing digits than this match too many phones to be a search: only an order number is looked for.
PHONE_SUFFIX_MIN_DIGITS = 4


def _numbers_found(text: str) -> list[QuerySet[Any]]:
    """The ``customer_id`` querysets of the orders contributed numbers find."""
    found = []
    for extension in list_extensions():
        if extension.number_search is not None:
            found.append(extension.number_search(text))
    return found


def _phone_suffix(digits: str) -> QuerySet[Any]:
    return (
        CustomerPhone.objects.annotate(reversed_number=Reverse("number"))
        .filter(reversed_number__startswith=digits[::-1])
        .values("customer_id")
    )


def _any_of(found: list[QuerySet[Any]]) -> Q:
    if not found:
        return Q(pk__in=[])
    ids = found[0]
    if len(found) > 1:
        ids = ids.union(*found[1:])
    return Q(pk__in=ids)


def search_condition(kind: str, text: str) -> Q:
    """The condition on ``Customer`` of a search the list's form has read as ``(kind, text)``."""
    if kind == SearchKind.EMAIL:
        return Q(pk__in=CustomerEmail.objects.filter(address=text.lower()).values("customer_id"))
    if kind == SearchKind.PHONE:
        # Numbers are stored in E.164 and unique: an exact lookup on the unique index, never a LIKE.
        return Q(pk__in=CustomerPhone.objects.filter(number=text).values("customer_id"))
    if kind == SearchKind.NUMBER:
        number = text.lstrip("#").strip()
        digits = "".join(ch for ch in number if ch.isdigit())
        found = _numbers_found(number)
        if len(digits) >= PHONE_SUFFIX_MIN_DIGITS and not text.startswith("#"):
            found.append(_phone_suffix(digits))
        return _any_of(found)
    words = text.split()
    by_name = Q()
    for word in words:
        by_name &= Q(name__icontains=word)
    if len(words) == 1 and any(ch.isdigit() for ch in text):
        return _any_of([Customer.objects.filter(by_name).values("pk"), *_numbers_found(text)])
    return by_name


def customers_named(text: str, limit: int = 10) -> list[Customer]:
    """Customers whose whole name is ``text``, in any case and with the first and last words swapped ("Иванова
    Мария" finds "Мария Иванова"): the operator console's search by name, which must find the caller and nobody
    else. An equality on ``UPPER(name)``, answered by the trigram index (migration 0002), never a scan. Merged and
    erased records are left out; the most recent buyers first."""
    words = text.split()
    if not words:
        return []
    wanted = {" ".join(words), " ".join([*words[1:], words[0]]), " ".join([words[-1], *words[:-1]])}
    condition = Q()
    for name in wanted:
        condition |= Q(name__iexact=name)
    return list(
        Customer.objects.filter(condition, merged_into__isnull=True, erased_at__isnull=True).order_by(
            F("last_order_at").desc(nulls_last=True), "-pk"
        )[:limit]
    )
