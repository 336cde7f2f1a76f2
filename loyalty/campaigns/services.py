"""Writes of the campaigns: saving and switching a campaign, the two presets, a recorded click, a call done, the
outbox's outcomes settled onto the recipients, and a customer put into a win-back campaign by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.campaigns.audience import audience_add
from loyalty.campaigns.models import CallState, CallTask, Campaign, CampaignRecipient, RecipientStatus
from loyalty.campaigns.runner import recipients_process
from loyalty.campaigns.selectors import win_back_campaigns
from loyalty.models import Coupon
from messaging.kinds import Outcome
from messaging.models import MessageState
from shop.permissions import user_can
from shop.roles import Capability

OUTCOME_STATUS = {
    MessageState.SENT: RecipientStatus.SENT,
    MessageState.FAILED: RecipientStatus.FAILED,
    MessageState.UNKNOWN: RecipientStatus.UNKNOWN,
    MessageState.CANCELLED: RecipientStatus.CANCELLED,
}


def _check_configure(user: Any) -> None:
    if not user_can(user, Capability.CONFIGURE):
        raise PermissionDenied


def campaign_save(*, user: Any, campaign: Campaign) -> Campaign:
    """Validate and save the owner's campaign (the form's instance). Only the owner configures."""
    _check_configure(user)
    if campaign.pk is None:
        campaign.created_by = user
    campaign.full_clean()
    campaign.save()
    return campaign


def campaign_set_active(*, user: Any, campaign: Campaign, active: bool) -> Campaign:
    """Switch a campaign on or off. Switching on again after the budget stopped it clears the stop (the owner
    raises the budget first, or it stops at once)."""
    _check_configure(user)
    campaign.is_active = active
    if active:
        campaign.stopped_reason = ""
    campaign.save(update_fields=["is_active", "stopped_reason", "updated_at"])
    return campaign


def recipients_settle(outcomes: Sequence[Outcome], now: datetime) -> None:
    """messaging's settle hook for campaign messages, inside the transaction that records the outcomes: each
    recipient follows its message. A message cancelled before it left (consent withdrawn, the cap) takes its
    coupon back and gives its cost back to the budget: the customer never heard of it."""
    for state, status in OUTCOME_STATUS.items():
        ids = [outcome.message_id for outcome in outcomes if outcome.state == state]
        if not ids:
            continue
        rows = CampaignRecipient.objects.filter(message_id__in=ids).exclude(status=status)
        if state == MessageState.CANCELLED:
            for campaign_id, coupon_id, cost in rows.values_list("campaign_id", "coupon_id", "offer_cost"):
                if coupon_id is not None:
                    Coupon.objects.filter(pk=coupon_id, used_at__isnull=True).update(revoked_at=now)
                if cost:
                    Campaign.objects.filter(pk=campaign_id).update(spent=F("spent") - cost)
        fields: dict[str, Any] = {"status": status, "updated_at": now}
        if state == MessageState.SENT:
            fields["sent_at"] = now
        rows.update(**fields)


def recipient_click(*, recipient_id: int, now: datetime | None = None) -> str | None:
    """Count a click on the tracked link (the first one's time kept); returns where to send the visitor, or None
    for an unknown recipient. One conditional UPDATE each."""
    now = now or timezone.now()
    row = CampaignRecipient.objects.filter(pk=recipient_id).values("campaign__link_url").first()
    if row is None:
        return None
    CampaignRecipient.objects.filter(pk=recipient_id).update(clicks=F("clicks") + 1)
    CampaignRecipient.objects.filter(pk=recipient_id, clicked_at__isnull=True).update(clicked_at=now)
    return str(row["campaign__link_url"] or "")


def call_task_done(*, user: Any, task: CallTask, outcome: str, now: datetime | None = None) -> bool:
    """The operator's call made: the task closed with its outcome, the recipient "called". Idempotent: a second
    submit changes nothing and returns False."""
    if not user_can(user, Capability.LOOKUP):
        raise PermissionDenied
    now = now or timezone.now()
    with transaction.atomic():
        done = CallTask.objects.filter(pk=task.pk, state=CallState.OPEN).update(
            state=CallState.DONE, outcome=outcome[:500], done_by=user, done_at=now
        )
        if done:
            CampaignRecipient.objects.filter(pk=task.recipient_id).update(
                status=RecipientStatus.CALLED, sent_at=now, updated_at=now
            )
    return bool(done)


class NotAdded(Exception):
    """Why a customer was not put into a campaign, in words for the page."""


def win_back_add(*, user: Any, campaign_id: int, customer_id: int, now: datetime | None = None) -> CampaignRecipient:
    """Put the customer into an active win-back campaign now and process them as the runner does: the control
    group (stable hash) gets nothing, and a treated customer's offer respects consent, the message cap and the
    budget (their status says which). Refused with :class:`NotAdded` when the campaign is not an active win-back
    one, the customer may not be written to, or they entered it within its offer's validity (a second click)."""
    if not user_can(user, Capability.BROWSE):
        raise PermissionDenied
    now = now or timezone.now()
    campaign = next((found for found in win_back_campaigns() if found.pk == campaign_id), None)
    if campaign is None:
        raise NotAdded(_("No win-back campaign is active: switch one on under Loyalty → Campaigns."))
    recent = CampaignRecipient.objects.filter(
        campaign=campaign, customer_id=customer_id, entered_at__gt=now - timedelta(days=campaign.offer_days)
    )
    if recent.exists():
        raise NotAdded(_("This customer is already in this campaign."))
    occasion = f"manual:{timezone.localdate(now).isoformat()}"
    with transaction.atomic():
        Campaign.objects.select_for_update(of=("self",)).filter(pk=campaign.pk).first()
        if not audience_add(campaign, customer_id=customer_id, occasion=occasion, now=now):
            raise NotAdded(_("This customer gave no marketing consent on the campaign’s channels: not added."))
    recipients_process(campaign_id=campaign.pk, now=now)
    return CampaignRecipient.objects.get(campaign=campaign, customer_id=customer_id, occasion=occasion)
