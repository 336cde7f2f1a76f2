"""The operator's console: the caller's card on a ring, lookup by number, unknown callers, call log, call-backs."""

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from crm.call.access import call_reason, card_url
from crm.call.card import caller_card, lookup_number
from crm.call.forms import CallerCreateForm, CallLogForm, PhoneSearchForm
from crm.dashboards import missed_callers_by_value
from customers import calls as call_services
from customers.search import customers_named
from customers.selectors import customer_for_user, phone_owner
from customers.services import CustomerData, customer_resolve
from loyalty.campaigns.selectors import calls_due
from shop.audit import audit_record, card_opening_allowed
from shop.http import same_site_path
from shop.models import AuditKind, AuditReason, ShopSettings
from shop.permissions import capability_required, user_can
from shop.phones import PhoneError, format_phone
from shop.roles import Capability

if TYPE_CHECKING:
    from customers.models import Call, Customer

LOOKUP = Capability.LOOKUP
# Namesakes shown for a search by a whole name: enough to pick the caller by city and last order, too few to page
# through a common name.
NAME_MATCHES = 10


def _found(request: HttpRequest, customer: "Customer", number: str, call: "Call | None") -> dict[str, Any]:
    """The card of a caller the console found, recorded as a lookup; a search by hand counts against the
    operator's hourly limit and is refused over it."""
    reason = call_reason(call, request.user) if call is not None else AuditReason.SEARCH
    counted = reason != AuditReason.CALL and not user_can(request.user, Capability.BROWSE)
    if counted and not card_opening_allowed(user=request.user, request=request, customer_id=customer.pk):  # type: ignore[arg-type]
        return {"over_limit": ShopSettings.load().operator_cards_per_hour, "call": call}
    audit_record(kind=AuditKind.LOOKUP, user=request.user, customer_id=customer.pk, reason=reason, request=request)
    return {
        "card": caller_card(customer),
        "card_url": card_url(customer.pk, reason, request.user),
        "number": number,
        "call": call,
        "log_form": CallLogForm(),
    }


def _by_name(request: HttpRequest, text: str) -> dict[str, Any]:
    """Customers whose whole name is the text typed (any case, surname first or last): the operator chooses the
    caller among them, each link signed as a search."""
    audit_record(
        kind=AuditKind.LOOKUP, user=request.user, reason=AuditReason.SEARCH, request=request, detail={"by": "name"}
    )
    found = customers_named(text, limit=NAME_MATCHES)
    return {
        "name_query": text,
        "name_matches": [(customer, card_url(customer.pk, AuditReason.SEARCH, request.user)) for customer in found],
    }


def _card_context(request: HttpRequest, raw_phone: str, call: "Call | None") -> dict[str, Any]:
    """What the card area shows for a number: the customer's card, a create form, or why the number is wrong; for a
    text with letters, the customers of exactly that name."""
    try:
        number = lookup_number(raw_phone)
    except PhoneError as error:
        if call is None and any(ch.isalpha() for ch in raw_phone):
            return _by_name(request, raw_phone)
        return {"phone_error": str(error), "raw_phone": raw_phone, "call": call}
    customer = phone_owner(number)
    if customer is None:
        return {
            "unknown_number": number,
            "create_form": CallerCreateForm(initial={"phone": number}),
            "call": call,
        }
    return _found(request, customer, number, call)


@capability_required(LOOKUP)
def console(request: HttpRequest) -> HttpResponse:
    """The page an operator keeps open. ``?phone=`` (typed, or opened by the telephony) shows that caller; with no
    number, the operator's live call, so a refresh during a call keeps the card."""
    phone = request.GET.get("phone", "").strip()
    live = call_services.live_call_for_operator(request.user)
    context: dict[str, Any] = {
        "form": PhoneSearchForm(initial={"phone": phone}),
        "live_call": live,
        "campaign_calls": calls_due(today=timezone.localdate()),
    }
    if phone:
        context.update(_card_context(request, phone, None))
    elif live is not None:
        context.update(_card_context(request, live.phone, live))
    return render(request, "crm/call/console.html", context)


@never_cache
@capability_required(LOOKUP)
def live_call(request: HttpRequest) -> JsonResponse:
    """Polled every second by the console: the operator's ringing or answered call, if any."""
    call = call_services.live_call_for_operator(request.user)
    if call is None:
        return JsonResponse({"call": None})
    return JsonResponse(
        {
            "call": {
                "id": call.pk,
                "phone": call.phone,
                "phone_display": format_phone(call.phone),
                "state": call.state,
                "state_label": call.get_state_display(),
                "started_at": call.started_at.isoformat(),
                "card_url": reverse("call:card") + "?" + urlencode({"call": call.pk}),
            }
        }
    )


@capability_required(LOOKUP)
def card(request: HttpRequest) -> HttpResponse:
    """The card area alone, for the console to swap in when a call rings."""
    call = None
    if request.GET.get("call", "").isdigit():
        call = call_services.call_for_user(request.user, int(request.GET["call"]))
        phone = call.phone
    else:
        phone = request.GET.get("phone", "")
    return render(request, "crm/call/_card_area.html", _card_context(request, phone, call))


@require_POST
@capability_required(LOOKUP)
def caller_create(request: HttpRequest) -> HttpResponse:
    """Create the unknown caller in one step, with the number already filled in."""
    form = CallerCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The customer was not created: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect(reverse("call:console") + "?" + urlencode({"phone": request.POST.get("phone", "")}))
    try:
        number = lookup_number(form.cleaned_data["phone"])
    except PhoneError as error:
        messages.error(request, str(error))
        return redirect("call:console")
    email = form.cleaned_data["email"].strip().lower()
    resolved = customer_resolve(
        data=CustomerData(
            source="call",
            name=form.cleaned_data["name"],
            phones=(number,),
            emails=(email,) if email else (),
            city=form.cleaned_data["city"],
            utm_medium="phone",
        )
    )
    if request.POST.get("call", "").isdigit():
        call = call_services.call_for_user(request.user, int(request.POST["call"]))
        call_services.call_attach_customer(call=call, customer_id=resolved.customer_id)
    messages.success(request, _("Customer created."))
    return redirect(reverse("call:console") + "?" + urlencode({"phone": number}))


@require_POST
@capability_required(LOOKUP)
def call_log(request: HttpRequest) -> HttpResponse:
    """Record what came of a call: the live one from the telephony, or one logged by hand for a customer."""
    form = CallLogForm(request.POST)
    back = same_site_path(request, request.POST.get("next"), reverse("call:console"))
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect(back)
    data = form.cleaned_data
    if request.POST.get("call", "").isdigit():
        call = call_services.call_for_user(request.user, int(request.POST["call"]))
        call_services.call_set_outcome(call=call, outcome=data["outcome"], note=data["note"])
    else:
        customer = customer_for_user(request.user, int(request.POST.get("customer", "0") or 0))
        primary = customer.phones.values_list("number", flat=True).first() or ""
        call_services.call_log(
            customer_id=customer.pk,
            phone=primary,
            operator=request.user,
            direction=data["direction"],
            outcome=data["outcome"],
            note=data["note"],
        )
    messages.success(request, _("Call logged."))
    return redirect(back)


@capability_required(LOOKUP)
def missed(request: HttpRequest) -> HttpResponse:
    """Callers waiting for a call-back, one row each with how many times they rang, the most valuable customers
    first, unknown numbers last."""
    return render(request, "crm/call/missed.html", {"callers": missed_callers_by_value(200)})


@require_POST
@capability_required(LOOKUP)
def called_back(request: HttpRequest, pk: int) -> HttpResponse:
    call_services.call_mark_called_back(call=call_services.call_for_user(request.user, pk))
    messages.success(request, _("Marked as called back."))
    return redirect("call:missed")
