"""Promo code batches: the list (managers read it), generating a batch and switching one off (the owner), and the
owner's spreadsheet-safe export of a batch's codes. Pages validate, call one service, render."""

from itertools import chain

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from loyalty import selectors
from loyalty.forms import PromoBatchForm
from loyalty.services import promo_batch_deactivate, promo_batch_generate
from loyalty.views import _signed_in
from shop.audit import audit_record
from shop.csv_safety import SEPARATORS, csv_lines
from shop.models import AuditKind
from shop.permissions import capability_required, user_can
from shop.roles import Capability


@_signed_in
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = selectors.promo_batches_for_user(request.user)  # view_rules or configure, else 403
    return render(
        request,
        "loyalty/batch_list.html",
        {"batches": batches, "can_configure": user_can(request.user, Capability.CONFIGURE)},
    )


@capability_required(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest) -> HttpResponse:
    initial = {"rule": request.GET.get("rule")} if request.GET.get("rule", "").isdigit() else {}
    form = PromoBatchForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        batch = promo_batch_generate(
            user=request.user, rule=data["rule"], name=data["name"], count=data["count"], prefix=data["code_prefix"],
            uses_per_code=data["uses_per_code"], uses_per_customer=data["uses_per_customer"],
            valid_until=form.valid_until_moment(),
        )  # fmt: skip
        messages.success(
            request,
            _("%(count)s codes generated for “%(name)s”.") % {"count": data["count"], "name": batch.name},
        )
        return redirect("loyalty:batches")
    return render(request, "loyalty/batch_new.html", {"form": form})


@capability_required(Capability.CONFIGURE)
@require_POST
def batch_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    batch = promo_batch_deactivate(user=request.user, batch=selectors.promo_batch_for_user(request.user, pk))
    messages.success(
        request, _("Campaign “%(name)s” switched off: its codes are refused from now on.") % {"name": batch.name}
    )
    return redirect("loyalty:batches")


@capability_required(Capability.CONFIGURE)
def batch_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The batch's codes as CSV a spreadsheet opens safely (``shop.csv_safety``: formula-like cells neutralised,
    a BOM for Excel), streamed in code order. Semicolons by default, ``?sep=comma`` otherwise, as the customer
    export."""
    batch = selectors.promo_batch_for_user(request.user, pk)
    audit_record(
        kind=AuditKind.EXPORT, user=request.user, request=request, detail={"what": "promo codes", "batch": batch.name}
    )
    delimiter = SEPARATORS["comma"] if request.GET.get("sep") == "comma" else SEPARATORS["semicolon"]
    valid_until = "" if batch.valid_until is None else f"{timezone.localtime(batch.valid_until):%Y-%m-%d %H:%M}"
    header = [
        _("Code"), _("Campaign"), _("Uses"), _("Uses per code"), _("Uses per customer"), _("Valid until"), _("Active"),
    ]  # fmt: skip
    rows = (
        [code, batch.name, uses, batch.uses_per_code, batch.uses_per_customer, valid_until, batch.is_active]
        for code, uses in selectors.promo_batch_codes(batch.pk)
    )
    response = StreamingHttpResponse(
        csv_lines(chain([header], rows), delimiter=delimiter), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="promo-codes-{batch.pk}.csv"'
    return response
