"""The public survey pages (signed links, no login) and the staff pages: follow-ups, settings, reports."""

from datetime import timedelta
from typing import cast

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from feedback import selectors, services
from feedback.forms import FeedbackSettingsForm, FollowUpForm, SurveyForm
from feedback.links import token_unsign
from feedback.models import FeedbackSettings, FollowUp, FollowUpState, Invitation, Response
from messaging.forms import MessagingSettingsForm
from messaging.selectors import messaging_settings
from shop.audit import audit_changes
from shop.http import public_link_page
from shop.models import AuditKind, ShopSettings, User
from shop.permissions import capability_required
from shop.roles import Capability, Role


def _invitation_from_link(request: HttpRequest, signed: str) -> Invitation | HttpResponse:
    """The invitation of a signed link, or the page that says why the link does not work."""
    try:
        token = token_unsign(signed)
    except signing.SignatureExpired:
        return render(request, "feedback/public/link_expired.html", status=410)
    except signing.BadSignature:
        return render(request, "feedback/public/link_invalid.html", status=404)
    invitation = Invitation.objects.select_related("order").filter(public_token=token).first()
    if invitation is None:
        return render(request, "feedback/public/link_invalid.html", status=404)
    return invitation


# The signed token in the address is the whole authority, as for the unsubscribe: a forged cross-site post would need
# the token, and a second answer is refused anyway. CSRF's origin check cannot work here: the page sends no Referer
# (no-referrer keeps the token from leaking), so browsers post its form with "Origin: null".
@csrf_exempt
@public_link_page
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, signed: str) -> HttpResponse:
    found = _invitation_from_link(request, signed)
    if isinstance(found, HttpResponse):
        return found
    invitation = found
    with translation.override(invitation.language or translation.get_language()):
        context = {"shop_name": ShopSettings.load().display_name, "invitation": invitation, "signed": signed}
        if Response.objects.filter(invitation=invitation).exists():
            return render(request, "feedback/public/already_answered.html", context, status=409)
        form = SurveyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.response_submit(invitation=invitation, **form.cleaned_data)
            except services.AlreadyAnswered:
                return render(request, "feedback/public/already_answered.html", context, status=409)
            return render(request, "feedback/public/thanks.html", context)
        return render(request, "feedback/public/survey.html", {**context, "form": form})


# The signed token is the whole authority here (no session), and mail clients' one-click POST carries no CSRF token.
@csrf_exempt
@public_link_page
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, signed: str) -> HttpResponse:
    """GET asks to confirm (mail scanners and link previews follow links and must not unsubscribe anyone); POST
    unsubscribes: the confirmation's button, or a mail client's RFC 8058 one-click POST."""
    found = _invitation_from_link(request, signed)
    if isinstance(found, HttpResponse):
        return found
    with translation.override(found.language or translation.get_language()):
        context = {"shop_name": ShopSettings.load().display_name}
        if request.method != "POST":
            return render(request, "feedback/public/unsubscribe_confirm.html", context)
        services.customer_unsubscribe(customer_id=found.customer_id)
        return render(request, "feedback/public/unsubscribed.html", context)


@capability_required(Capability.BROWSE)
def follow_up_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", selectors.UNRESOLVED)
    if state not in {selectors.UNRESOLVED, *FollowUpState.values}:
        state = ""
    mine = request.GET.get("mine") == "1"
    rows = selectors.follow_ups(state=state, assignee_id=request.user.pk if mine else None)[:200]
    return render(
        request,
        "feedback/follow_up_list.html",
        {
            "rows": rows,
            "state": state,
            "mine": mine,
            "states": [(selectors.UNRESOLVED, _("Still to handle")), *FollowUpState.choices],
            "follow_up_days": FeedbackSettings.load().follow_up_days,
        },
    )


def _assignees() -> list[tuple[int, str]]:
    users = (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name__in=[Role.OWNER, Role.MANAGER]), is_active=True)
        .distinct()
    )
    return [(user.pk, user.get_full_name() or user.get_username()) for user in users.order_by("username")]


@capability_required(Capability.BROWSE)
def follow_up_detail(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_object_or_404(FollowUp.objects.select_related("customer", "order", "response", "assignee"), pk=pk)
    form = FollowUpForm(
        request.POST or None,
        assignees=_assignees(),
        initial={"state": follow_up.state, "assignee": follow_up.assignee_id, "outcome": follow_up.outcome},
    )
    if request.method == "POST" and form.is_valid():
        services.follow_up_update(
            follow_up=follow_up,
            author=cast(User, request.user),
            state=form.cleaned_data["state"],
            assignee_id=form.cleaned_data["assignee"],
            outcome=form.cleaned_data["outcome"] or "",
            comment=form.cleaned_data["comment"],
        )
        messages.success(request, _("Saved."))
        return redirect("feedback:follow_up", pk=pk)
    comments = follow_up.comments.select_related("author")
    return render(request, "feedback/follow_up_detail.html", {"item": follow_up, "form": form, "comments": comments})


@capability_required(Capability.CONFIGURE)
def settings_edit(request: HttpRequest) -> HttpResponse:
    """The survey settings and, beside them, the quiet hours and cap every message obeys (messaging's own)."""
    data = request.POST or None
    form = FeedbackSettingsForm(data, instance=FeedbackSettings.load())
    messaging_form = MessagingSettingsForm(data, instance=messaging_settings(), prefix="messaging")
    if request.method == "POST" and form.is_valid() and messaging_form.is_valid():
        with transaction.atomic():
            form.save()
            messaging_form.save()
            if form.changed_data:
                audit_changes(request, AuditKind.SETTINGS, form, target="surveys")
            if messaging_form.changed_data:
                audit_changes(request, AuditKind.SETTINGS, messaging_form, target="messaging")
        messages.success(request, _("Survey settings saved."))
        return redirect("feedback:settings")
    return render(request, "feedback/settings.html", {"form": form, "messaging_form": messaging_form})


# How far back the reports look: enough weeks to see a trend, enough months to see a season.
REPORT_WINDOWS = {"week": timedelta(weeks=26), "month": timedelta(days=365)}


@capability_required(Capability.REPORTS)
def reports(request: HttpRequest) -> HttpResponse:
    period = "week" if request.GET.get("period") == "week" else "month"
    since = timezone.now() - REPORT_WINDOWS[period]
    rows = selectors.scores_by_period(period=period, since=since)
    segments = selectors.scores_by_segment(since=since)
    channels = selectors.scores_by_channel(since=since)
    chart = {
        "labels": [row["bucket"].date().isoformat() for row in rows],
        "nps": [row["nps"] for row in rows],
        "csat": [row["csat"] for row in rows],
        "rate": [row["response_rate"] for row in rows],
        "groups": {
            "segment": {"labels": [str(row["label"]) for row in segments], "nps": [row["nps"] for row in segments]},
            "channel": {"labels": [str(row["label"]) for row in channels], "nps": [row["nps"] for row in channels]},
        },
    }
    return render(
        request,
        "feedback/reports.html",
        {
            "period": period,
            "since": since,
            "rows": rows,
            "chart": chart,
            "channels": channels,
            "segments": segments,
            "totals": selectors.response_rate(since=since),
            "comments": selectors.latest_comments(),
        },
    )
