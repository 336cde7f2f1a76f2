"""The customer card, composed at the top from the apps' selectors: it shows orders (orders app) next to the
customer's own data (customers app), and later scores, calls, feedback and bonuses.

Two extension points keep the card open to the apps that come later without touching its template:

- ``CARD_SECTIONS``: panels of the card, each a template and a function that reads what it shows;
- ``TIMELINE_SOURCES``: functions that turn a customer's history into typed timeline entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.privacy import erasure_notice_section, personal_data_section
from customers import selectors as customer_selectors
from customers.calls import calls_for_customer
from customers.forms import EmailAddForm, NoteForm, PhoneAddForm, TagAddForm
from customers.models import ConsentChannel, Customer
from feedback.models import FollowUp, Response
from feedback.selectors import open_complaints_for_customers, responses_for_customer
from orders import selectors as order_selectors
from scoring.card import score_panel
from shop.permissions import user_can
from shop.roles import Capability

# How much history the card shows at once: the newest entries of every kind, merged.
TIMELINE_LENGTH = 100


@dataclass(frozen=True)
class TimelineEntry:
    """One event in the customer's history. ``template`` renders it with ``entry`` and ``object`` in context."""

    kind: str
    at: datetime
    template: str
    object: Any


TimelineSource = Callable[[Customer], Iterable[TimelineEntry]]


def order_entries(customer: Customer) -> list[TimelineEntry]:
    return [
        TimelineEntry(kind="order", at=order.placed_at, template="orders/_timeline_order.html", object=order)
        for order in order_selectors.orders_for_customer(customer, limit=TIMELINE_LENGTH)
    ]


def note_entries(customer: Customer) -> list[TimelineEntry]:
    return [
        TimelineEntry(kind="note", at=note.created_at, template="customers/_timeline_note.html", object=note)
        for note in customer_selectors.notes_for_customer(customer, limit=TIMELINE_LENGTH)
    ]


def call_entries(customer: Customer) -> list[TimelineEntry]:
    return [
        TimelineEntry(kind="call", at=call.started_at, template="customers/_timeline_call.html", object=call)
        for call in calls_for_customer(customer.pk, limit=TIMELINE_LENGTH)
    ]


def follow_ups_for_customer(customer_id: int) -> QuerySet[FollowUp]:
    """Every complaint of a customer with the answer and order it came from, newest first. (A feedback read the
    card needs and feedback.selectors does not offer yet; served by the ``(customer, state)`` index.)"""
    return (
        FollowUp.objects.filter(customer_id=customer_id)
        .select_related("response", "order", "assignee")
        .order_by("-created_at", "-id")
    )


def response_entries(customer: Customer) -> list[TimelineEntry]:
    answers: Iterable[Response] = responses_for_customer(customer.pk)[:TIMELINE_LENGTH]
    return [
        TimelineEntry(kind="survey_answer", at=answer.created_at, template="crm/_timeline_answer.html", object=answer)
        for answer in answers
    ]


def follow_up_entries(customer: Customer) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            kind="follow_up", at=follow_up.created_at, template="crm/_timeline_follow_up.html", object=follow_up
        )
        for follow_up in follow_ups_for_customer(customer.pk)[:TIMELINE_LENGTH]
    ]


# Each app that has something to say about a customer's history adds its source here (one query each, bounded).
TIMELINE_SOURCES: list[TimelineSource] = [
    order_entries,
    note_entries,
    call_entries,
    response_entries,
    follow_up_entries,
]


def customer_timeline(customer: Customer, limit: int = TIMELINE_LENGTH) -> list[TimelineEntry]:
    """Every source's entries, newest first, cut to ``limit``."""
    entries = [entry for source in TIMELINE_SOURCES for entry in source(customer)]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


@dataclass(frozen=True)
class CardSection:
    """A panel of the card. ``read`` returns the panel's own context, rendered as ``data`` in ``template``;
    ``column`` is ``side`` (narrow, beside the timeline) or ``main`` (above it)."""

    name: str
    template: str
    column: str
    read: Callable[[Customer, Any], dict[str, Any]] = field(default=lambda customer, user: {})


def _contacts(customer: Customer, user: Any) -> dict[str, Any]:
    phones, emails = customer_selectors.customer_contacts(customer)
    return {
        "phones": phones,
        "emails": emails,
        "phone_form": PhoneAddForm(action=reverse("customers:phone_add", kwargs={"pk": customer.pk})),
        "email_form": EmailAddForm(action=reverse("customers:email_add", kwargs={"pk": customer.pk})),
    }


def _consent(customer: Customer, user: Any) -> dict[str, Any]:
    channels = [
        {
            "channel": ConsentChannel.EMAIL,
            "label": ConsentChannel.EMAIL.label,
            "granted": customer.email_consent,
            "at": customer.email_consent_at,
            "source": customer.email_consent_source,
        },
        {
            "channel": ConsentChannel.SMS,
            "label": ConsentChannel.SMS.label,
            "granted": customer.sms_consent,
            "at": customer.sms_consent_at,
            "source": customer.sms_consent_source,
        },
    ]
    return {"channels": channels, "history": customer_selectors.customer_consent_history(customer, limit=10)}


def _tags(customer: Customer, user: Any) -> dict[str, Any]:
    return {
        "tags": customer_selectors.customer_tags(customer),
        "tag_form": TagAddForm(action=reverse("customers:tag_add", kwargs={"pk": customer.pk})),
    }


def _merges(customer: Customer, user: Any) -> dict[str, Any]:
    return {"merges": customer_selectors.customer_merges(customer)}


def _complaints(customer: Customer, user: Any) -> dict[str, Any]:
    """Open complaints, shown near the top: whoever opens the card should see an unhappy customer first."""
    return {
        "complaints": open_complaints_for_customers([customer.pk]).get(customer.pk, []),
        "now": timezone.now(),
    }


# The card's panels in order; scores, loyalty and feedback add theirs here.
CARD_SECTIONS: list[CardSection] = [
    CardSection("erasure_notice", "crm/privacy/erasure_notice.html", "main", erasure_notice_section),
    CardSection("merges", "customers/card/merges.html", "main", _merges),
    CardSection("complaints", "crm/card_complaints.html", "main", _complaints),
    CardSection("score", "scoring/card_score.html", "main", score_panel),
    CardSection("figures", "customers/card/figures.html", "main"),
    CardSection("contacts", "customers/card/contacts.html", "side", _contacts),
    CardSection("tags", "customers/card/tags.html", "side", _tags),
    CardSection("consent", "customers/card/consent.html", "side", _consent),
    CardSection("acquisition", "customers/card/acquisition.html", "side"),
    CardSection("personal_data", "crm/privacy/personal_data.html", "side", personal_data_section),
]


@dataclass
class RenderedSection:
    section: CardSection
    data: dict[str, Any]


@login_required
def customer_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole customer on one page. Operators see it read-only (they reach it through lookup and search);
    every edit form posts to a view that requires BROWSE."""
    customer = customer_selectors.customer_for_user(request.user, pk)
    if customer.merged_into_id is not None:
        survivor = customer_selectors.survivor_of(customer)
        messages.info(
            request,
            _("Customer #%(old)s was merged into this customer; you are seeing the merged card.")
            % {"old": customer.pk},
        )
        return redirect("customer_card", pk=survivor.pk)
    sections = [RenderedSection(section, section.read(customer, request.user)) for section in CARD_SECTIONS]
    context = {
        "customer": customer,
        "can_edit": user_can(request.user, Capability.BROWSE),
        "main_sections": [s for s in sections if s.section.column == "main"],
        "side_sections": [s for s in sections if s.section.column == "side"],
        "timeline": customer_timeline(customer),
        "note_form": NoteForm(action=reverse("customers:note_add", kwargs={"pk": customer.pk})),
    }
    return render(request, "crm/customer_card.html", context)
