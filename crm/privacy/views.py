"""Pages of the personal data requests: the download, the erasure's confirmation, and the card's two panels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from crm.privacy.erasure import customer_erase_personal_data
from crm.privacy.export import customer_personal_data, personal_data_json
from customers import selectors as customer_selectors
from customers.contrib import CardPanel
from shop.audit import audit_record
from shop.models import AuditKind
from shop.permissions import capability_required, user_can
from shop.roles import Capability

if TYPE_CHECKING:
    from customers.models import Customer


@never_cache  # the file is one person's whole record: no browser or proxy may keep a copy
@capability_required(Capability.EXPORT)
def customer_personal_data_download(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_selectors.customer_for_user(request.user, pk)
    if customer.merged_into_id is not None:
        return redirect("customer_personal_data", pk=customer_selectors.survivor_of(customer).pk)
    audit_record(
        kind=AuditKind.EXPORT,
        user=request.user,
        customer_id=customer.pk,
        request=request,
        detail={"what": "personal data"},
    )
    response = HttpResponse(
        personal_data_json(customer_personal_data(customer)), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-personal-data.json"'
    return response


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
            audit_record(kind=AuditKind.ERASURE, user=request.user, customer_id=customer.pk, request=request)
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


def _erasure_notice(customer: Customer, user: Any) -> dict[str, Any]:
    return {"erased_at": customer.erased_at}


def _personal_data(customer: Customer, user: Any) -> dict[str, Any]:
    return {
        "export_url": reverse("customer_personal_data", kwargs={"pk": customer.pk})
        if user_can(user, Capability.EXPORT)
        else None,
        "erase_url": reverse("customer_erase", kwargs={"pk": customer.pk})
        if user_can(user, Capability.ERASE)
        else None,
    }


CARD_PANELS = (
    CardPanel("erasure_notice", "crm/privacy/erasure_notice.html", "main", 10, _erasure_notice),
    CardPanel("personal_data", "crm/privacy/personal_data.html", "side", 190, _personal_data),
)
