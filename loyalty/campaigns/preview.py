"""The message a real recipient would get, per language: the first customer of the audience today who reads that
language (else the first of the audience at all), with their own offer, before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from loyalty.campaigns.audience import audience_sql
from loyalty.campaigns.models import LANGUAGES, Campaign
from loyalty.campaigns.offers import Text, offer_plan, placeholder_values, render
from loyalty.campaigns.runner import people_of
from messaging.links import base_url
from shop.models import ShopSettings


@dataclass(frozen=True)
class MessagePreview:
    language: str
    customer: Customer
    text: Text


def _sample(campaign: Campaign) -> list[int]:
    """Up to 20 treated customers of today's audience (one bounded query)."""
    sql, params = audience_sql(campaign, now=timezone.now(), since=campaign.last_run_at)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT a.customer_id FROM ({sql}) a WHERE a.grp = 'treated' LIMIT 20", params)  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def message_previews(campaign: Campaign) -> list[MessagePreview]:
    ids = _sample(campaign)
    if not ids:
        return []
    people = people_of(ids)
    customers = Customer.objects.in_bulk(ids)
    currency = ShopSettings.load().currency
    previews = []
    for language in LANGUAGES:
        pk = next((pk for pk in ids if people[pk].language == language), ids[0])
        person = people[pk]
        plan = offer_plan(campaign, person.standing)
        values = placeholder_values(
            name=person.name, plan=plan, code=_("(personal code)") if plan.issues_coupon else "",
            expiry=timezone.now() + timedelta(days=campaign.offer_days) if plan.issues_coupon else None,
            link=f"{base_url()}/c/…", language=language, currency=currency,
        )  # fmt: skip
        previews.append(MessagePreview(language, customers[pk], render(campaign, language, values)))
    return previews
