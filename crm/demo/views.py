"""The demo's pages: the console's simulated ring (anyone who may take calls) and the outbox (the owner). Both
answer 404 outside the demo, whatever the role."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.demo import outbox, services
from customers.calls import CallEvent, call_for_user
from customers.telephony import TelephonyNotConfigured
from shop.permissions import capability_required
from shop.roles import Capability


def demo_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Outside the demo these pages do not exist."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.RETAIN_DEMO:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


class SimulatedCallForm(forms.Form):
    # Empty: a random demo customer's number.
    phone = forms.CharField(max_length=40, required=False)


def _switched_off(request: HttpRequest) -> None:
    messages.error(
        request, _("The telephony webhook is switched off: TELEPHONY_WEBHOOK_SECRET is not set. Run the demo with it.")
    )


@require_POST
@demo_only
@capability_required(Capability.LOOKUP)
def call_ring(request: HttpRequest) -> HttpResponse:
    """Ring this operator's console as the telephony would, from the typed number or a random customer's."""
    form = SimulatedCallForm(request.POST)
    phone = form.cleaned_data["phone"].strip() if form.is_valid() else ""
    phone = phone or services.demo_caller_number() or ""
    if not phone:
        messages.error(request, _("No customer has a phone number yet: type one."))
        return redirect("call:console")
    try:
        services.demo_call_ring(phone=phone, operator=request.user)
    except TelephonyNotConfigured:
        _switched_off(request)
    return redirect("call:console")


@require_POST
@demo_only
@capability_required(Capability.LOOKUP)
def call_advance(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer or hang up the call the demo rang."""
    event = request.POST.get("event", "")
    if event not in (CallEvent.ANSWERED, CallEvent.HANGUP):
        messages.error(request, _("Unknown call event."))
        return redirect("call:console")
    call = call_for_user(request.user, pk)
    if not services.is_demo_call(call):
        messages.error(request, _("Only a call the demo rang can be answered or hung up here."))
        return redirect("call:console")
    try:
        services.demo_call_advance(call=call, event=event)
    except TelephonyNotConfigured:
        _switched_off(request)
    return redirect("call:console")


# The outbox shows customers' addresses and messages: the owner's, like the shop's other configuration.
@demo_only
@capability_required(Capability.CONFIGURE)
def outbox_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "crm/demo/outbox.html",
        {
            "emails": outbox.outbox_emails(),
            "sms": outbox.outbox_sms(),
            "email_folder": outbox.email_folder(),
        },
    )


@require_POST
@demo_only
@capability_required(Capability.CONFIGURE)
def survey_send_next(request: HttpRequest) -> HttpResponse:
    invitation = services.demo_survey_send_next()
    if invitation is None:
        messages.info(request, _("No survey invitation is waiting to be sent."))
    else:
        messages.success(
            request,
            _("The survey for order %(order)s was sent by %(channel)s to %(address)s: %(state)s.")
            % {
                "order": invitation.order.external_id,
                "channel": invitation.get_channel_display(),
                "address": invitation.address,
                "state": invitation.get_state_display(),
            },
        )
    return redirect("demo:outbox")
