"""The campaigns' part of a customer: a card panel (which campaigns reached this customer, with what offer, and
whether it was used), their part of the personal-data download, and what a merge moves. Registered with loyalty's
contribution from ``LoyaltyConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef

from customers.contrib import CardPanel, ExportPart, MergeMover
from loyalty.campaigns.models import CallTask, CampaignRecipient
from loyalty.campaigns.selectors import customer_campaigns
from shop.models import ShopSettings

if TYPE_CHECKING:
    from customers.models import Customer


def campaigns_panel(customer: Customer, user: Any) -> dict[str, Any]:
    """One query: the customer's last ten entries with their campaign and coupon."""
    return {"entries": customer_campaigns(customer.pk), "currency": ShopSettings.load().currency}


def _export(customer: Customer) -> dict[str, Any]:
    return {
        "campaigns": [
            {
                "campaign": entry.campaign.title, "group": entry.group, "status": entry.status,
                "channel": entry.channel, "entered_at": entry.entered_at.isoformat(),
                "offer": str(entry.offer_value) if entry.offer_value is not None else None,
                "clicked_at": entry.clicked_at.isoformat() if entry.clicked_at else None,
            }
            for entry in customer_campaigns(customer.pk, limit=1000)
        ]
    }  # fmt: skip


def _move(survivor: Customer, duplicate: Customer) -> dict[str, int]:
    """The duplicate's entries move unless the survivor already entered the same campaign on the same occasion
    (then the survivor's entry stands, and the duplicate's stays with the merged-away row)."""
    taken = CampaignRecipient.objects.filter(
        customer_id=survivor.pk, campaign_id=OuterRef("campaign_id"), occasion=OuterRef("occasion")
    )
    moving = CampaignRecipient.objects.filter(customer_id=duplicate.pk).exclude(Exists(taken))
    moved_ids = list(moving.values_list("pk", flat=True))
    entries = CampaignRecipient.objects.filter(pk__in=moved_ids).update(customer_id=survivor.pk)
    calls = CallTask.objects.filter(recipient_id__in=moved_ids).update(customer_id=survivor.pk)
    return {"campaign_entries": entries, "campaign_calls": calls}


# Beside the bonuses (45), before the figures.
CARD_PANELS = (CardPanel("campaigns", "loyalty/campaigns/card_panel.html", "side", 46, campaigns_panel),)
EXPORT_PARTS = (ExportPart("campaigns", 410, _export),)
MERGE_MOVERS = (MergeMover("campaigns", 410, _move),)
