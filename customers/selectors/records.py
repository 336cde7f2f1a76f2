"""One customer and its parts: the scoped accessor every page fetches a customer through, the survivor of a merge,
the one phone lookup, and the reads the card and other apps make (contacts, tags, consent, notes, merges)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, F, Max, Min, Q, QuerySet
from django.http import Http404

from customers.models import ConsentChange, Customer, CustomerEmail, CustomerMerge, CustomerPhone, Note, Tag
from shop.db import model_columns, model_from_row
from shop.permissions import user_can
from shop.roles import Capability


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


# The aliases of a customer's columns in a read composed with other apps' columns (the caller card).
COLUMNS_PREFIX = "customer_"


def customers_with_number(number: str) -> QuerySet[Customer]:
    """The customer whose record holds ``number`` (E.164), as a queryset other apps' columns can be added to: at
    most one row (the number is unique), merged or not — the reader takes the survivor when it is."""
    return Customer.objects.filter(phones__number=number)


def customers_with_id(customer_id: int) -> QuerySet[Customer]:
    return Customer.objects.filter(pk=customer_id)


def customer_columns() -> dict[str, Any]:
    """Every column of the customer for a composed ``values()`` read; :func:`customer_from_columns` reads it back."""
    return model_columns(Customer, prefix=COLUMNS_PREFIX)


def customer_from_columns(row: Mapping[str, Any]) -> Customer:
    return model_from_row(Customer, row, prefix=COLUMNS_PREFIX)


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
