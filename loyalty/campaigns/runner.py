"""Running a campaign: whoever newly qualifies enters (one set-based insert), then the selected recipients are
processed in batches — offer, coupon, message into messaging's outbox, or an operator's call — under the
campaign's row lock, which is what keeps the budget exact between concurrent runs.

PostgreSQL holds the work: a recipient is "selected" until its batch commits, so a run killed in the middle leaves
rows the next run (or the every-15-minutes sweep) processes; nothing is lost and, the unique (campaign, customer,
occasion) and the one-to-one message and coupon standing guard, nothing is done twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from customers.models import Customer
from loyalty.campaigns.audience import audience_enter
from loyalty.campaigns.links import click_url
from loyalty.campaigns.models import (
    CallTask,
    Campaign,
    CampaignRecipient,
    RecipientStatus,
    Schedule,
    SendChannel,
    StopReason,
)
from loyalty.campaigns.offers import OfferPlan, Standing, offer_plan, placeholder_values, render
from loyalty.models import Coupon
from loyalty.services import coupons_issue_bulk
from messaging.models import Channel, MessagingSettings, Purpose
from messaging.selectors import contact_addresses
from messaging.services import MessageData, customers_over_cap, messages_enqueue, quiet_adjusted
from orders.models import Order, OrderStatus
from scoring.models import CustomerScore
from shop.db import rows_update
from shop.models import ShopSettings

BATCH = 1000
MESSAGE_KIND = "campaign.offer"


@dataclass
class RunResult:
    entered: int = 0
    processed: int = 0


def _due(campaign: Campaign, now: datetime, zone: ZoneInfo) -> bool:
    if not campaign.is_active or campaign.stopped_reason:
        return False
    if campaign.last_run_at is None or campaign.schedule == Schedule.AFTER_DELIVERY:
        return True
    if campaign.schedule == Schedule.ONCE:
        return False
    return campaign.last_run_at.astimezone(zone).date() < now.astimezone(zone).date()


def campaign_run(*, campaign_id: int, now: datetime | None = None, force: bool = False) -> RunResult:
    """Enter whoever newly qualifies (when the schedule says it is time, or ``force``) and process every selected
    recipient. Locks the campaign row for the insert; idempotent (a second run the same day enters nobody new)."""
    now = now or timezone.now()
    zone = ZoneInfo(ShopSettings.load().time_zone)
    result = RunResult()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(of=("self",)).select_related("rule").get(pk=campaign_id)
        if (force and campaign.is_active and not campaign.stopped_reason) or _due(campaign, now, zone):
            result.entered = audience_enter(campaign, now=now)
            Campaign.objects.filter(pk=campaign.pk).update(last_run_at=now)
    while processed := recipients_process(campaign_id=campaign_id, now=now):
        result.processed += processed
    return result


@dataclass(frozen=True)
class _Person:
    name: str
    language: str
    email_consent: bool
    sms_consent: bool
    email: str | None
    phone: str | None
    tier: str
    standing: Standing


def people_of(customer_ids: list[int]) -> dict[int, _Person]:
    """Everything the batch needs about its customers: five queries whatever its size."""
    addresses = contact_addresses(customer_ids)
    scores = {
        row[0]: row[1:]
        for row in CustomerScore.objects.filter(customer_id__in=customer_ids).values_list(
            "customer_id", "tier", "churn_risk", "predicted_clv", "average_value"
        )
    }
    delivered = dict(
        Order.objects.filter(customer_id__in=customer_ids, status=OrderStatus.DELIVERED)
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    shop_language = ShopSettings.load().language or "ru"
    people = {}
    for pk, name, language, email_consent, sms_consent in Customer.objects.filter(pk__in=customer_ids).values_list(
        "pk", "name", "language", "email_consent", "sms_consent"
    ):
        tier, risk, clv, average = scores.get(pk, ("", None, None, Decimal("0")))
        people[pk] = _Person(
            name=name.split(" ")[0] if name else "",
            language=language or shop_language,
            email_consent=email_consent,
            sms_consent=sms_consent,
            email=addresses[pk][0],
            phone=addresses[pk][1],
            tier=tier,
            standing=Standing(churn_risk=risk, predicted_clv=clv, average_value=average or Decimal("0"),
                              delivered_orders=delivered.get(pk, 0)),
        )  # fmt: skip
    return people


def _channel(person: _Person, send_channel: str) -> tuple[str, str] | None:
    options = [(Channel.EMAIL, person.email if person.email_consent else None)]
    options.append((Channel.SMS, person.phone if person.sms_consent else None))
    if send_channel == SendChannel.SMS_FIRST:
        options.reverse()
    elif send_channel == SendChannel.EMAIL:
        options = options[:1]
    elif send_channel == SendChannel.SMS:
        options = options[1:]
    return next(((str(channel), address) for channel, address in options if address), None)


class _Batch:
    """One batch's decisions, written at the end with bulk statements."""

    def __init__(self, campaign: Campaign, now: datetime) -> None:
        self.campaign, self.now = campaign, now
        self.config = MessagingSettings.load()
        shop = ShopSettings.load()
        self.currency, self.zone = shop.currency, ZoneInfo(shop.time_zone)
        self.due_at = quiet_adjusted(now, zone=self.zone, quiet_from=self.config.quiet_from,
                                     quiet_until=self.config.quiet_until)  # fmt: skip
        self.spent = campaign.spent
        self.over_budget = False
        self.messages: list[MessageData] = []
        self.coupons: list[Coupon] = []
        self.pending: list[tuple[CampaignRecipient, _Person, str, str, OfferPlan]] = []
        self.calls: list[CallTask] = []

    def affordable(self, plan: OfferPlan) -> bool:
        budget = self.campaign.budget
        if budget is not None and (self.over_budget or self.spent + plan.cost > budget):
            self.over_budget = True
            return False
        self.spent += plan.cost
        return True

    def offer(self, row: CampaignRecipient, plan: OfferPlan) -> None:
        """Record the offer; a coupon is drawn now and issued with the whole batch's in one insert."""
        row.offer_kind, row.offer_value, row.offer_cost = plan.value_kind, plan.value, plan.cost
        if not plan.issues_coupon:
            row.offer_value = plan.percent_now
            return
        row.coupon = Coupon(
            customer_id=row.customer_id, rule=self.campaign.rule, value_kind=plan.value_kind, value=plan.value,
            valid_until=self.now + timedelta(days=self.campaign.offer_days), created_at=self.now,
        )  # fmt: skip
        self.coupons.append(row.coupon)

    def message(self, row: CampaignRecipient, person: _Person, channel: str, address: str, plan: OfferPlan) -> None:
        coupon = row.coupon
        values = placeholder_values(
            name=person.name, plan=plan, code=coupon.code if coupon else "",
            expiry=coupon.valid_until if coupon else None, link=click_url(row.pk), language=person.language,
            currency=self.currency,
        )  # fmt: skip
        text = render(self.campaign, person.language, values)
        self.messages.append(
            MessageData(
                customer_id=row.customer_id, channel=channel, purpose=Purpose.MARKETING, address=address,
                kind=MESSAGE_KIND, source=f"recipient:{row.pk}", due_at=self.due_at, language=person.language,
                subject=text.subject, body=text.email if channel == Channel.EMAIL else text.sms,
            )
        )  # fmt: skip
        row.channel, row.language, row.status = channel, person.language, RecipientStatus.QUEUED


def _decide(batch: _Batch, row: CampaignRecipient, person: _Person | None, capped: set[int]) -> None:
    campaign = batch.campaign
    if person is None:
        row.status = RecipientStatus.NO_CHANNEL
        return
    plan = offer_plan(campaign, person.standing)
    calling = person.tier in (campaign.call_tiers or [])
    route = None if calling else _channel(person, campaign.send_channel)
    if not calling and route is None:
        row.status = RecipientStatus.NO_CHANNEL
    elif not calling and row.customer_id in capped:
        row.status = RecipientStatus.CAPPED
    elif not batch.affordable(plan):
        row.status = RecipientStatus.OVER_BUDGET
    elif calling:
        batch.offer(row, plan)
        row.status, row.language = RecipientStatus.CALL, person.language
        batch.calls.append(
            CallTask(recipient=row, customer_id=row.customer_id, due_on=batch.now.astimezone(batch.zone).date())
        )
    else:
        assert route is not None
        batch.offer(row, plan)
        batch.pending.append((row, person, *route, plan))


def recipients_process(*, campaign_id: int, now: datetime | None = None, limit: int = BATCH) -> int:
    """Process up to ``limit`` selected recipients of the campaign in one transaction; returns how many.

    Locks the campaign row (the budget is read and raised under it), then the batch's rows (SKIP LOCKED). A
    customer over the message cap is recorded "capped"; once the budget cannot pay the next offer the campaign
    stops (every later recipient "over budget"). Messages go to the outbox in one insert, the call tasks in one."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(of=("self",)).select_related("rule").get(pk=campaign_id)
        rows = list(
            CampaignRecipient.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign_id, status=RecipientStatus.NEW)
            .order_by("id")[:limit]
        )
        if not rows:
            return 0
        batch = _Batch(campaign, now)
        customer_ids = sorted({row.customer_id for row in rows})
        people = people_of(customer_ids)
        capped = customers_over_cap(
            customer_ids=customer_ids, limit=batch.config.cap_messages, days=batch.config.cap_days, now=now
        )
        for row in rows:
            _decide(batch, row, people.get(row.customer_id), capped)
        coupons_issue_bulk(batch.coupons)
        for row, person, channel, address, plan in batch.pending:
            batch.message(row, person, channel, address, plan)
        queued = messages_enqueue(items=batch.messages)
        for row in rows:
            if row.status == RecipientStatus.QUEUED:
                row.message_id = queued.get((MESSAGE_KIND, f"recipient:{row.pk}"))
                if row.message_id is None:  # refused by the outbox (consent withdrawn since selection)
                    row.status = RecipientStatus.NO_CHANNEL
        rows_update(
            CampaignRecipient,
            rows,
            ["status", "channel", "language", "message", "coupon", "offer_kind", "offer_value", "offer_cost"],
        )
        CallTask.objects.bulk_create(batch.calls)
        updates: dict[str, Any] = {"spent": batch.spent}
        if batch.over_budget:
            updates["stopped_reason"] = StopReason.BUDGET_SPENT
            CampaignRecipient.objects.filter(campaign_id=campaign_id, status=RecipientStatus.NEW).update(
                status=RecipientStatus.OVER_BUDGET
            )
        Campaign.objects.filter(pk=campaign_id).update(**updates)
    return len(rows)


def campaigns_run_due(*, now: datetime | None = None) -> dict[int, RunResult]:
    """Run every active campaign whose time has come, and finish any left with selected recipients."""
    now = now or timezone.now()
    ids = (
        Campaign.objects.filter(Q(is_active=True, stopped_reason="") | Q(recipients__status=RecipientStatus.NEW))
        .values_list("pk", flat=True)
        .distinct()
    )
    return {pk: campaign_run(campaign_id=pk, now=now) for pk in sorted(ids)}


__all__ = ["MESSAGE_KIND", "RunResult", "campaign_run", "campaigns_run_due", "recipients_process"]
