"""Who a campaign reaches: one set-based selection, new entrants only, the stable control group."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Tag
from loyalty.campaigns.audience import audience_today
from loyalty.campaigns.models import Campaign, CampaignRecipient, Group, RecipientStatus, Schedule
from loyalty.campaigns.runner import campaign_run
from loyalty.engine.evaluate import in_control_group
from messaging.models import Message
from tests.loyalty.campaigns.helpers import campaign, person

pytestmark = pytest.mark.django_db


def entered(target: Campaign) -> set[int]:
    return set(CampaignRecipient.objects.filter(campaign=target).values_list("customer_id", flat=True))


def test_the_audience_is_every_condition_together_and_needs_marketing_consent() -> None:
    match = person(risk=0.7, tier="medium", segment="at_risk", days_since=60, orders=3)
    match.tags.add(Tag.objects.create(name="vip-club"))
    others = [
        person(risk=0.5),  # churn risk below the range
        person(risk=0.95),  # above it
        person(tier="low"),
        person(segment="lost"),
        person(days_since=10),  # ordered recently
        person(orders=1),  # a first-time buyer, the campaign is for repeat customers
        person(email=False, sms=False),  # no marketing consent on any channel
        person(channel="social"),  # another acquisition channel
    ]
    for other in others[:-1]:
        other.tags.add(Tag.objects.get(name="vip-club"))
    target = campaign(
        churn_min=0.6, churn_max=0.9, tiers=["medium", "high"], segments=["at_risk"], days_min=30, days_max=365,
        order_kind="repeat", tags=["vip-club"], channels=["unknown"],
    )  # fmt: skip
    assert audience_today(target, now=timezone.now()).total == 1
    campaign_run(campaign_id=target.pk)
    assert entered(target) == {match.pk}


def test_a_daily_run_enters_only_whoever_newly_qualifies() -> None:
    first = person(risk=0.7)
    target = campaign()
    assert campaign_run(campaign_id=target.pk).entered == 1
    assert campaign_run(campaign_id=target.pk, force=True).entered == 0
    second = person(risk=0.65)
    tomorrow = timezone.now() + timedelta(days=1)
    assert audience_today(target, now=tomorrow).total == 1
    assert campaign_run(campaign_id=target.pk, now=tomorrow).entered == 1
    assert entered(target) == {first.pk, second.pk}
    assert Message.objects.filter(customer=first).count() == 1


def test_a_second_run_on_the_same_day_does_nothing() -> None:
    person(risk=0.7)
    target = campaign()
    campaign_run(campaign_id=target.pk)
    person(risk=0.7)
    assert campaign_run(campaign_id=target.pk).entered == 0


def test_crossing_the_next_threshold_enters_the_customer_again_with_a_bigger_offer() -> None:
    customer = person(risk=0.62)
    target = campaign(risk_thresholds=[0.6, 0.8])
    campaign_run(campaign_id=target.pk)
    customer.score.churn_risk = 0.85
    customer.score.save()
    campaign_run(campaign_id=target.pk, now=timezone.now() + timedelta(days=1))
    entries = list(CampaignRecipient.objects.filter(customer=customer).order_by("pk"))
    assert [entry.occasion for entry in entries] == ["risk:0.60", "risk:0.80"]
    assert entries[1].coupon.value > entries[0].coupon.value  # type: ignore[union-attr]


def test_the_control_group_is_the_stable_hash_and_never_gets_a_message_or_coupon() -> None:
    people = [person(risk=0.7) for _ in range(40)]
    target = campaign(control_share=Decimal("0.5"))
    campaign_run(campaign_id=target.pk)
    control = set(
        CampaignRecipient.objects.filter(campaign=target, group=Group.CONTROL).values_list("customer_id", flat=True)
    )
    expected = {p.pk for p in people if in_control_group(target.control_key, p.pk, Decimal("0.5"))}  # type: ignore[arg-type]
    assert control == expected and 0 < len(control) < 40
    assert not Message.objects.filter(customer_id__in=control).exists()
    rows = CampaignRecipient.objects.filter(campaign=target, group=Group.CONTROL)
    assert set(rows.values_list("status", flat=True)) == {RecipientStatus.CONTROL}
    assert not rows.filter(coupon__isnull=False).exists()
    treated = CampaignRecipient.objects.filter(campaign=target, group=Group.TREATED)
    assert set(treated.values_list("status", flat=True)) == {RecipientStatus.QUEUED}
    assert treated.filter(coupon__isnull=False).count() == 40 - len(control)


def test_vip_and_high_tiers_get_an_operators_call_instead_of_a_message() -> None:
    vip = person(risk=0.7, tier="vip")
    medium = person(risk=0.7, tier="medium")
    target = campaign(call_tiers=["vip", "high"])
    campaign_run(campaign_id=target.pk)
    call = CampaignRecipient.objects.get(customer=vip)
    assert call.status == RecipientStatus.CALL and call.call_task.customer_id == vip.pk and call.coupon is not None
    assert not Message.objects.filter(customer=vip).exists()
    assert Message.objects.filter(customer=medium).count() == 1


def test_a_once_campaign_runs_once() -> None:
    person(risk=0.7)
    target = campaign(schedule=Schedule.ONCE)
    assert campaign_run(campaign_id=target.pk).entered == 1
    person(risk=0.7)
    assert campaign_run(campaign_id=target.pk, now=timezone.now() + timedelta(days=2)).entered == 0
