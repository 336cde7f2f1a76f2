"""The owner's adjustment of a customer's credit, linked from the card's bonuses panel: a signed amount and a
reason, through ``credit_adjust`` (which keeps the balance from going below zero); its refusal is shown on the
form."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers.selectors import customer_for_user, survivor_of
from loyalty.errors import LoyaltyError
from loyalty.forms import AdjustmentForm
from loyalty.selectors import customer_balance
from loyalty.services import credit_adjust
from shop.models import ShopSettings
from shop.money import format_money
from shop.permissions import capability_required
from shop.roles import Capability


@capability_required(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def credit_adjust_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_user(request.user, pk)
    if customer.merged_into_id is not None:
        messages.error(request, _("This customer was merged into another one; adjust the survivor instead."))
        return redirect("customer_card", pk=survivor_of(customer).pk)
    currency = ShopSettings.load().currency
    form = AdjustmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = credit_adjust(
                customer_id=customer.pk, amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"],
                user=request.user, expires_at=form.expires_moment(),
            )  # fmt: skip
        except LoyaltyError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("Credit adjusted by %(amount)s; the balance is now %(balance)s.")
                % {
                    "amount": format_money(entry.amount, currency),
                    "balance": format_money(entry.balance_after, currency),
                },
            )
            return redirect("customer_card", pk=customer.pk)
    return render(
        request,
        "loyalty/credit_adjust.html",
        {
            "customer": customer,
            "form": form,
            "balance": customer_balance(customer.pk),
            "currency": currency,
        },
    )
