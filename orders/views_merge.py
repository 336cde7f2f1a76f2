"""Merging duplicates from the customer card: find the other customer, compare them side by side, confirm."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers.merging import MergeError, customer_merge
from customers.selectors import customer_for_user, phone_owner
from shop.models import ShopSettings
from shop.permissions import capability_required
from shop.phones import PhoneError, normalize_phone
from shop.roles import Capability

if TYPE_CHECKING:
    from customers.models import Customer


def _find_other(user: Any, text: str) -> Customer | None:
    """The other customer by id (digits) or by any phone format; ``None`` when nobody matches."""
    text = text.strip()
    if text.isdigit() and len(text) <= 10:
        # Not an id we know: it may still be a phone number written as digits.
        with contextlib.suppress(Http404):
            return customer_for_user(user, int(text))
    try:
        return phone_owner(normalize_phone(text, ShopSettings.load().phone_region))
    except PhoneError:
        return None


@require_http_methods(["GET", "POST"])
@capability_required(Capability.BROWSE)
def customer_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_user(request.user, pk)
    context: dict[str, Any] = {"customer": customer, "query": request.POST.get("other", "")}
    if request.method == "POST":
        other = _find_other(request.user, request.POST.get("other", ""))
        if other is None:
            context["error"] = _("No customer has this id or phone number.")
        elif request.POST.get("confirm") == "yes":
            survivor, duplicate = (other, customer) if request.POST.get("keep") == "other" else (customer, other)
            try:
                customer_merge(survivor=survivor, duplicate=duplicate, user=request.user)
            except MergeError as error:
                context["error"] = str(error)
            else:
                messages.success(
                    request,
                    _("Customer #%(old)s was merged into this customer.") % {"old": duplicate.pk},
                )
                return redirect("customer_card", pk=survivor.pk)
        elif other.pk == customer.pk:
            context["error"] = _("That is this same customer.")
        else:
            context["other"] = other
    return render(request, "orders/merge.html", context)
