"""The campaign pages: the list with the two presets, the editor with its audience, cost and message previews, a
campaign's results; the public tracked link; an operator's call marked done. Pages validate, call one service,
render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from loyalty.campaigns import selectors
from loyalty.campaigns.audience import audience_today
from loyalty.campaigns.forms import CallDoneForm, CampaignForm
from loyalty.campaigns.links import click_token_read
from loyalty.campaigns.models import Campaign, Preset
from loyalty.campaigns.presets import preset_campaign, preset_switch
from loyalty.campaigns.preview import message_previews
from loyalty.campaigns.runner import campaign_run
from loyalty.campaigns.services import call_task_done, campaign_save, campaign_set_active, recipient_click
from messaging.links import base_url
from shop.models import ShopSettings
from shop.permissions import capability_required, user_can
from shop.roles import Capability


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    return None if request.user.is_authenticated else redirect_to_login(request.get_full_path())


@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    if (login := _signed_in(request)) is not None:
        return login
    campaigns = selectors.campaigns_for_user(request.user)  # view_rules or configure, else 403
    now = timezone.now()
    presets = []
    for preset in (Preset.REWARD_LOYALTY, Preset.WIN_BACK):
        campaign = next((c for c in campaigns if c.preset == preset), None)
        presets.append({"preset": preset, "label": Preset(preset).label, "campaign": campaign,
                        "today": audience_today(campaign, now=now) if campaign else None})  # fmt: skip
    return render(request, "loyalty/campaigns/list.html", {
        "campaigns": campaigns, "presets": presets, "currency": ShopSettings.load().currency,
        "can_configure": user_can(request.user, Capability.CONFIGURE),
    })  # fmt: skip


@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if (login := _signed_in(request)) is not None:
        return login
    campaign = selectors.campaign_for_user(request.user, pk)
    after = request.GET.get("after", "")
    results = selectors.campaign_results(campaign)
    return render(request, "loyalty/campaigns/detail.html", {
        "campaign": campaign, "today": audience_today(campaign, now=timezone.now()),
        "results": results, "status_rows": selectors.status_rows(results), "previews": message_previews(campaign),
        "recipients": selectors.campaign_recipients(campaign.pk, after=int(after) if after.isdigit() else None),
        "currency": ShopSettings.load().currency, "can_configure": user_can(request.user, Capability.CONFIGURE),
    })  # fmt: skip


@capability_required(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    campaign = selectors.campaign_for_user(request.user, pk) if pk is not None else Campaign()
    form = CampaignForm(request.POST or None, instance=campaign)
    context: dict[str, Any] = {"form": form, "campaign": campaign if pk else None,
                               "currency": ShopSettings.load().currency}  # fmt: skip
    if request.method == "POST" and form.is_valid():
        edited = form.apply()
        if "preview" in request.POST:
            context.update(today=audience_today(edited, now=timezone.now()), previews=message_previews(edited))
        else:
            saved = campaign_save(user=request.user, campaign=edited)
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": saved.name})
            return redirect("loyalty:campaign", pk=saved.pk)
    elif campaign.pk:
        context.update(today=audience_today(campaign, now=timezone.now()), previews=message_previews(campaign))
    return render(request, "loyalty/campaigns/edit.html", context)


@capability_required(Capability.CONFIGURE)
@require_POST
def campaign_switch(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    campaign_set_active(user=request.user, campaign=campaign, active=active)
    if active and request.POST.get("run") == "1":
        result = campaign_run(campaign_id=campaign.pk, force=True)
        messages.success(request, _("%(count)d customers entered the campaign.") % {"count": result.entered})
    return redirect("loyalty:campaign", pk=campaign.pk)


@capability_required(Capability.CONFIGURE)
@require_POST
def preset_toggle(request: HttpRequest, preset: str) -> HttpResponse:
    if preset not in (Preset.REWARD_LOYALTY, Preset.WIN_BACK):
        raise Http404
    if request.POST.get("active") in ("0", "1"):
        campaign = preset_switch(user=request.user, preset=preset, active=request.POST["active"] == "1")
    else:
        campaign = preset_campaign(user=request.user, preset=preset)
    return redirect("loyalty:campaign", pk=campaign.pk)


@capability_required(Capability.LOOKUP)
@require_POST
def call_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.call_task_for_user(request.user, pk)
    form = CallDoneForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    if call_task_done(user=request.user, task=task, outcome=form.cleaned_data["outcome"]):
        messages.success(request, _("Call recorded."))
    return redirect("call:console")


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    """The tracked link of a campaign message (public: the signed token is the authority): counts the click and
    sends the visitor on to the shop."""
    recipient_id = click_token_read(token)
    target = recipient_click(recipient_id=recipient_id) if recipient_id is not None else None
    if target is None:
        raise Http404
    return HttpResponseRedirect(target or base_url() + "/")
