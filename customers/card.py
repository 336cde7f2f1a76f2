"""The customers app's part of the card: merges, key figures, contacts, tags, consent and acquisition panels, and the
notes and calls of the timeline. Registered from ``CustomersConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from customers import selectors, unverified
from customers.calls import calls_for_customer
from customers.contrib import CardPanel, TimelineEntry, TimelineSource
from customers.forms import EmailAddForm, PhoneAddForm, TagAddForm
from customers.models import ConsentChannel, Customer
from shop.permissions import user_can
from shop.roles import Capability


def _contacts(customer: Customer, user: Any) -> dict[str, Any]:
    """Phones for everyone; emails and the street address only for staff who browse customers. An operator on a
    call needs the number, not the means to reach the customer elsewhere (the common leak through call centres)."""
    phones, emails = selectors.customer_contacts(customer)
    full = user_can(user, Capability.BROWSE)
    return {
        "phones": phones,
        "emails": emails if full else [],
        "address": customer.address if full else "",
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
            "wording": customer.email_consent_wording,
        },
        {
            "channel": ConsentChannel.SMS,
            "label": ConsentChannel.SMS.label,
            "granted": customer.sms_consent,
            "at": customer.sms_consent_at,
            "source": customer.sms_consent_source,
            "wording": customer.sms_consent_wording,
        },
    ]
    return {"channels": channels, "history": selectors.customer_consent_history(customer, limit=10)}


def _tags(customer: Customer, user: Any) -> dict[str, Any]:
    return {
        "tags": selectors.customer_tags(customer),
        "tag_form": TagAddForm(action=reverse("customers:tag_add", kwargs={"pk": customer.pk})),
    }


def _merges(customer: Customer, user: Any) -> dict[str, Any]:
    return {"merges": selectors.customer_merges(customer)}


def _note_entries(customer: Customer, limit: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(kind="note", at=note.created_at, template="customers/_timeline_note.html", object=note)
        for note in selectors.notes_for_customer(customer, limit=limit)
    ]


def _call_entries(customer: Customer, limit: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(kind="call", at=call.started_at, template="customers/_timeline_call.html", object=call)
        for call in calls_for_customer(customer.pk, limit=limit)
    ]


CARD_PANELS = (
    CardPanel("merges", "customers/card/merges.html", "main", 20, _merges),
    CardPanel("figures", "customers/card/figures.html", "main", 50),
    CardPanel("contacts", "customers/card/contacts.html", "side", 110, _contacts),
    CardPanel("unverified", "customers/card/unverified.html", "side", 115, unverified.card_panel),
    CardPanel("tags", "customers/card/tags.html", "side", 120, _tags),
    CardPanel("consent", "customers/card/consent.html", "side", 130, _consent),
    CardPanel("acquisition", "customers/card/acquisition.html", "side", 140),
)

TIMELINE = (
    TimelineSource("notes", 20, _note_entries),
    TimelineSource("calls", 30, _call_entries),
)
