"""The customer card, composed at the top from what every app registered in ``customers.contrib``: panels (each a
template and a function that reads what it shows) and timeline sources (each turning one kind of a customer's
history into typed entries). crm knows no app's panel; an app adds one from its own ``AppConfig.ready``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.call.access import card_opening_check, card_opening_record, card_url
from customers import selectors as customer_selectors
from customers.contrib import TIMELINE_LENGTH, CardPanel, TimelineEntry, card_panels, timeline_sources
from customers.forms import NoteForm
from shop.permissions import user_can
from shop.roles import Capability


def customer_timeline(customer: Any, limit: int = TIMELINE_LENGTH) -> list[TimelineEntry]:
    """Every registered source's entries, newest first, cut to ``limit``."""
    entries = [entry for source in timeline_sources() for entry in source.read(customer, limit)]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


@dataclass
class RenderedSection:
    section: CardPanel
    data: dict[str, Any]


@login_required
def customer_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole customer on one page, every opening recorded with its reason. Operators open only the cards a
    call, a missed call or a console search brought up (``crm.call.access``), under the owner's hourly limit, and
    see them read-only without what a call does not need (emails, the address, exports); every edit form posts to
    a view that requires BROWSE."""
    opening = card_opening_check(request, pk)
    if opening.refusal is not None:
        return opening.refusal
    customer = customer_selectors.customer_for_user(request.user, pk)
    if customer.merged_into_id is not None:
        survivor = customer_selectors.survivor_of(customer)
        messages.info(
            request,
            _("Customer #%(old)s was merged into this customer; you are seeing the merged card.")
            % {"old": customer.pk},
        )
        if user_can(request.user, Capability.BROWSE):
            return redirect("customer_card", pk=survivor.pk)
        return redirect(card_url(survivor.pk, opening.reason, request.user))
    card_opening_record(request, customer.pk, opening.reason)
    sections = [RenderedSection(panel, panel.read(customer, request.user)) for panel in card_panels()]
    context = {
        "customer": customer,
        "can_edit": user_can(request.user, Capability.BROWSE),
        "main_sections": [s for s in sections if s.section.column == "main"],
        "side_sections": [s for s in sections if s.section.column == "side"],
        "timeline": customer_timeline(customer),
        "note_form": NoteForm(action=reverse("customers:note_add", kwargs={"pk": customer.pk})),
    }
    return render(request, "crm/customer_card.html", context)
