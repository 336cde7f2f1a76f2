"""A customer's personal data on request (152-FZ, GDPR habits): everything Retain holds about one person as a JSON
download, and the erasure of what identifies them while the shop keeps its accounting.

It spans every app (customers, orders, and later scores, feedback and loyalty), so it lives at the top. Two
registries keep it open to the apps that come later without touching this module's functions:

- ``EXPORT_CONTRIBUTORS``: functions ``customer → (key, data)``, each one part of the download;
- ``ERASERS``: functions that blank or delete one app's personal data of the customers being erased.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from customers import selectors as customer_selectors
from customers.models import (
    Call,
    ConsentChannel,
    Customer,
    CustomerEmail,
    CustomerExternalId,
    CustomerMerge,
    CustomerPhone,
    Note,
)
from customers.services import customer_set_consent
from orders.models import Order, OrderItem, OrderStatusChange
from shop.locks import advisory_xact_lock
from shop.permissions import capability_required, user_can
from shop.roles import Capability

# Bumped when a key of the download changes meaning, so whoever reads an old file knows which layout it has.
EXPORT_FORMAT_VERSION = 1
# The ConsentChange source of a withdrawal made by erasure: the consent history shows why marketing stopped.
CONSENT_SOURCE_ERASURE = "erasure"
# The audit line in Django's admin log (LogEntry); it needs no table of our own.
AUDIT_MESSAGE = "personal data erased"


# --- Export ----------------------------------------------------------------------------------------------------------

ExportContributor = Callable[[Customer], tuple[str, Any]]


def _profile(customer: Customer) -> tuple[str, Any]:
    return "profile", {
        "id": customer.pk,
        "name": customer.name,
        "city": customer.city,
        "address": customer.address,
        "language": customer.language,
        "acquisition_channel": customer.channel,
        "utm_source": customer.utm_source,
        "utm_medium": customer.utm_medium,
        "utm_campaign": customer.utm_campaign,
        "referred_by_customer_id": customer.referred_by_id,
        "orders_count": customer.orders_count,
        "total_spent": customer.total_spent,
        "first_order_at": customer.first_order_at,
        "last_order_at": customer.last_order_at,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "personal_data_erased_at": customer.erased_at,
    }


def _phones(customer: Customer) -> tuple[str, Any]:
    rows = CustomerPhone.objects.filter(customer=customer).order_by("-is_primary", "id")
    return "phones", [{"number": p.number, "is_primary": p.is_primary, "added_at": p.created_at} for p in rows]


def _emails(customer: Customer) -> tuple[str, Any]:
    rows = CustomerEmail.objects.filter(customer=customer).order_by("-is_primary", "id")
    return "emails", [{"address": e.address, "is_primary": e.is_primary, "added_at": e.created_at} for e in rows]


def _external_ids(customer: Customer) -> tuple[str, Any]:
    rows = CustomerExternalId.objects.filter(customer=customer).order_by("source", "external_id")
    return "external_ids", [{"source": x.source, "external_id": x.external_id, "added_at": x.created_at} for x in rows]


def _consent(customer: Customer) -> tuple[str, Any]:
    history = customer.consent_changes.order_by("changed_at", "id")
    return "consent", {
        "email": {
            "granted": customer.email_consent,
            "changed_at": customer.email_consent_at,
            "source": customer.email_consent_source,
        },
        "sms": {
            "granted": customer.sms_consent,
            "changed_at": customer.sms_consent_at,
            "source": customer.sms_consent_source,
        },
        "history": [
            {"channel": c.channel, "granted": c.granted, "source": c.source, "changed_at": c.changed_at}
            for c in history
        ],
    }


def _tags(customer: Customer) -> tuple[str, Any]:
    return "tags", sorted(customer.tags.values_list("name", flat=True))


def _notes(customer: Customer) -> tuple[str, Any]:
    # Authors are staff: their identity is the shop's data, not the customer's, so it stays out of the file.
    rows = Note.objects.filter(customer=customer).order_by("created_at", "id")
    return "notes", [{"text": n.text, "created_at": n.created_at, "updated_at": n.updated_at} for n in rows]


def _calls(customer: Customer) -> tuple[str, Any]:
    rows = Call.objects.filter(customer=customer).order_by("started_at", "id")
    return "calls", [
        {
            "phone": c.phone,
            "direction": c.direction,
            "state": c.state,
            "started_at": c.started_at,
            "answered_at": c.answered_at,
            "ended_at": c.ended_at,
            "outcome": c.outcome,
            "note": c.note,
        }
        for c in rows
    ]


def _orders(customer: Customer) -> tuple[str, Any]:
    rows = (
        Order.objects.filter(customer=customer)
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.order_by("id")),
            Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("changed_at", "id")),
        )
        .order_by("placed_at", "id")
    )
    return "orders", [
        {
            "source": o.source,
            "external_id": o.external_id,
            "placed_at": o.placed_at,
            "status": o.status,
            "status_changed_at": o.status_changed_at,
            "delivered_at": o.delivered_at,
            "currency": o.currency,
            "subtotal": o.subtotal,
            "discount_total": o.discount_total,
            "delivery_cost": o.delivery_cost,
            "total": o.total,
            "promo_code": o.promo_code,
            "items": [
                {"sku": i.sku, "name": i.name, "category": i.category, "quantity": i.quantity, "price": i.price}
                for i in o.items.all()
            ],
            "status_history": [
                {"from": s.from_status, "to": s.to_status, "changed_at": s.changed_at, "origin": s.origin}
                for s in o.status_changes.all()
            ],
        }
        for o in rows
    ]


def _merges(customer: Customer) -> tuple[str, Any]:
    # A duplicate record of the same person was merged into this one: what it held is theirs too.
    rows = CustomerMerge.objects.filter(survivor=customer).order_by("merged_at", "id")
    return "merged_records", [
        {"merged_customer_id": m.merged_customer_id, "merged_at": m.merged_at, "snapshot": m.merged_snapshot}
        for m in rows
    ]


# Each app that stores something about a person adds its part here (scores, feedback answers, loyalty ledger…).
EXPORT_CONTRIBUTORS: list[ExportContributor] = [
    _profile,
    _phones,
    _emails,
    _external_ids,
    _consent,
    _tags,
    _notes,
    _calls,
    _orders,
    _merges,
]


def customer_personal_data(customer: Customer) -> dict[str, Any]:
    """Everything the contributors hold about ``customer``, keyed by part. Values are plain Python (Decimal,
    datetime); :func:`personal_data_json` turns them into the file."""
    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "customer_id": customer.pk,
        "exported_at": timezone.now(),
    }
    for contributor in EXPORT_CONTRIBUTORS:
        key, part = contributor(customer)
        if key in data:
            # Two apps claiming one key would silently hide one app's data from the person asking for it.
            raise ValueError(f"Two personal data contributors use the key {key!r}")
        data[key] = part
    return data


def personal_data_json(data: dict[str, Any]) -> str:
    """The download: Decimal as strings (money must not pass through a float), times in ISO 8601 with their
    offset, Cyrillic as is so the person can read the file in any editor."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


@never_cache  # the file is one person's whole record: no browser or proxy may keep a copy
@capability_required(Capability.EXPORT)
def customer_personal_data_download(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_selectors.customer_for_user(request.user, pk)
    if customer.merged_into_id is not None:
        return redirect("customer_personal_data", pk=customer_selectors.survivor_of(customer).pk)
    response = HttpResponse(
        personal_data_json(customer_personal_data(customer)), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-personal-data.json"'
    return response


# --- Erasure ---------------------------------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an eraser works on: the customers being erased (the person's record and every duplicate merged into
    it) and the contacts they had when the erasure started, for rows that mention a number without a link."""

    customer_ids: list[int]
    phones: list[str]
    emails: list[str]
    now: datetime


Eraser = Callable[[Erasure], dict[str, int]]


def _erase_profile(erasure: Erasure) -> dict[str, int]:
    # The channel and the UTM source and medium stay: they name where thousands of customers came from and feed
    # LTV by channel. The campaign goes: shops put per-recipient tokens there (mailings, personal links).
    blank = {"name": "", "city": "", "address": "", "language": "", "utm_campaign": ""}
    changed = (
        Customer.objects.filter(pk__in=erasure.customer_ids)
        .filter(~Q(name="") | ~Q(city="") | ~Q(address="") | ~Q(language="") | ~Q(utm_campaign=""))
        .update(**blank, updated_at=erasure.now)
    )
    return {"profiles": changed}


def _erase_contacts(erasure: Erasure) -> dict[str, int]:
    ids = erasure.customer_ids
    phones, _ = CustomerPhone.objects.filter(customer_id__in=ids).delete()
    emails, _ = CustomerEmail.objects.filter(customer_id__in=ids).delete()
    external_ids, _ = CustomerExternalId.objects.filter(customer_id__in=ids).delete()
    return {"phones": phones, "emails": emails, "external_ids": external_ids}


def _erase_notes_and_tags(erasure: Erasure) -> dict[str, int]:
    notes, _ = Note.objects.filter(customer_id__in=erasure.customer_ids).delete()
    # Tags are labels a manager typed about the person ("difficult", "pregnant"): as telling as a note.
    tags, _ = Customer.tags.through.objects.filter(customer_id__in=erasure.customer_ids).delete()
    return {"notes": notes, "tags": tags}


def _withdraw_consent(erasure: Erasure) -> dict[str, int]:
    withdrawn = 0
    for customer_id in erasure.customer_ids:
        for channel in (ConsentChannel.EMAIL, ConsentChannel.SMS):
            # The service records a ConsentChange only when consent was granted: a second erasure adds nothing.
            withdrawn += customer_set_consent(
                customer_id=customer_id, channel=channel, granted=False, source=CONSENT_SOURCE_ERASURE
            )
    return {"consents": withdrawn}


def _erase_calls(erasure: Erasure) -> dict[str, int]:
    # A call from one of their numbers before the card existed is not linked to them but carries the number.
    mentions = Q(customer_id__in=erasure.customer_ids)
    if erasure.phones:
        mentions |= Q(phone__in=erasure.phones)
    changed = (
        Call.objects.filter(mentions)
        .filter(~Q(phone="") | ~Q(note=""))
        .update(phone="", note="", updated_at=erasure.now)
    )
    return {"calls": changed}


def _erase_merge_snapshots(erasure: Erasure) -> dict[str, int]:
    changed = (
        CustomerMerge.objects.filter(survivor_id__in=erasure.customer_ids)
        .exclude(merged_snapshot={})
        .update(merged_snapshot={})
    )
    return {"merge_snapshots": changed}


# Orders stay as they are: they hold no name, contact or address (those live on the customer), and the shop's
# accounting and tax records need every order and amount. Later apps add their erasers here.
ERASERS: list[Eraser] = [
    _erase_profile,
    _erase_contacts,
    _erase_notes_and_tags,
    _withdraw_consent,
    _erase_calls,
    _erase_merge_snapshots,
]


@dataclass(frozen=True)
class ErasureResult:
    customer: Customer
    changed: bool
    counts: dict[str, int] = field(default_factory=dict)


def _family_ids(customer: Customer) -> list[int]:
    """The customer and every record merged into it, at any depth: one person, several rows."""
    found = {customer.pk}
    frontier = [customer.pk]
    while frontier:
        frontier = [
            pk
            for pk in Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
            if pk not in found
        ]
        found.update(frontier)
    return sorted(found)


def customer_erase_personal_data(*, customer: Customer, user: Any) -> ErasureResult:
    """Erase what identifies ``customer`` (and the duplicates merged into it) and keep their orders and totals.

    Blanks name, city, address, language and UTM campaign; deletes phones, emails, external ids, notes and tags;
    withdraws marketing consent with ConsentChange rows of source ``erasure``; blanks the number and note of their
    calls; empties merge snapshots; runs every eraser in ``ERASERS``; sets ``erased_at``; writes a LogEntry.

    Locking, in the order ingestion takes them so the two cannot deadlock: advisory locks on every phone, email
    and external id (the names ``customers_resolve`` uses), then the customer rows in id order. An order arriving
    at the same moment with one of those contacts either lands before (and is kept, its data then erased) or
    after (and makes a new customer: the old contacts are no longer known).

    Idempotent: every write is conditional, so a second erasure of the same data changes nothing and logs
    nothing; one after new data arrived erases that data and moves ``erased_at``.
    """
    with transaction.atomic():
        ids = _family_ids(customer)
        phones = sorted(CustomerPhone.objects.filter(customer_id__in=ids).values_list("number", flat=True))
        emails = sorted(CustomerEmail.objects.filter(customer_id__in=ids).values_list("address", flat=True))
        external_ids = CustomerExternalId.objects.filter(customer_id__in=ids).values_list("source", "external_id")
        advisory_xact_lock(
            [f"customer-phone:{p}" for p in phones]
            + [f"customer-email:{e}" for e in emails]
            + [f"customer-ext:{s}:{x}" for s, x in external_ids]
        )
        list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))

        erasure = Erasure(customer_ids=ids, phones=phones, emails=emails, now=timezone.now())
        counts: dict[str, int] = {}
        for eraser in ERASERS:
            counts.update(eraser(erasure))
        changed = any(counts.values())
        never_erased = Customer.objects.filter(pk=customer.pk, erased_at__isnull=True).exists()
        if changed or never_erased:
            Customer.objects.filter(pk__in=ids).update(erased_at=erasure.now)
            customer.refresh_from_db()
            LogEntry.objects.create(
                user_id=user.pk,
                content_type_id=ContentType.objects.get_for_model(Customer).pk,
                object_id=str(customer.pk),
                # The display name is already "Customer #id": the audit log keeps no trace of who they were.
                object_repr=str(customer)[:200],
                action_flag=CHANGE,
                change_message=AUDIT_MESSAGE,
            )
            return ErasureResult(customer=customer, changed=True, counts=counts)
    return ErasureResult(customer=customer, changed=False, counts=counts)


class ErasureConfirmForm(forms.Form):
    """The customer's id typed by hand: a check that the owner means this card, not the one in another tab."""

    confirmation = forms.CharField(label=gettext_lazy("Customer number"), max_length=20, strip=True)

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirmation(self) -> str:
        value: str = self.cleaned_data["confirmation"].lstrip("#")
        if value != str(self.customer.pk):
            raise forms.ValidationError(
                _("Type %(id)s to confirm; nothing was erased.") % {"id": self.customer.pk}, code="mismatch"
            )
        return value


@never_cache
@capability_required(Capability.ERASE)
def customer_erase(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation page (GET) and the erasure itself (POST with the customer's id typed)."""
    customer = customer_selectors.customer_for_user(request.user, pk)
    if customer.merged_into_id is not None:
        return redirect("customer_erase", pk=customer_selectors.survivor_of(customer).pk)
    form = ErasureConfirmForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        result = customer_erase_personal_data(customer=customer, user=request.user)
        if result.changed:
            messages.success(request, _("Personal data of customer #%(id)s was erased.") % {"id": customer.pk})
        else:
            messages.info(request, _("Nothing left to erase: this customer's personal data was already erased."))
        return redirect("customer_card", pk=customer.pk)
    return render(
        request,
        "crm/privacy/erase_confirm.html",
        {"customer": customer, "form": form},
        status=400 if form.is_bound else 200,
    )


# --- The card's panels -----------------------------------------------------------------------------------------------


def erasure_notice_section(customer: Customer, user: Any) -> dict[str, Any]:
    return {"erased_at": customer.erased_at}


def personal_data_section(customer: Customer, user: Any) -> dict[str, Any]:
    return {
        "export_url": reverse("customer_personal_data", kwargs={"pk": customer.pk})
        if user_can(user, Capability.EXPORT)
        else None,
        "erase_url": reverse("customer_erase", kwargs={"pk": customer.pk})
        if user_can(user, Capability.ERASE)
        else None,
    }
