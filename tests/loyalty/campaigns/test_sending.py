"""Campaign messages through the outbox: the recipient's language, the budget, the cap across campaigns and
surveys, unsubscribe before the next batch, the tracked link and the results."""

import threading
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from loyalty.campaigns.links import click_token
from loyalty.campaigns.models import Campaign, CampaignRecipient, Group, RecipientStatus, Schedule, StopReason
from loyalty.campaigns.runner import campaign_run
from loyalty.campaigns.selectors import campaign_results
from loyalty.models import Coupon, LoyaltyRule
from messaging.models import Message, MessageState, MessagingSettings, Purpose
from messaging.services import marketing_unsubscribe, messages_claim, messages_send_batch
from orders.models import OrderStatus
from shop.models import ShopSettings
from tests.factories import MessageFactory, OrderFactory
from tests.loyalty.campaigns.helpers import campaign, person

pytestmark = pytest.mark.django_db


def _due_now() -> None:
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))


def test_every_message_is_in_the_recipients_language() -> None:
    russian = person(language="ru", name="Анна")
    english = person(language="en", name="John Smith")
    target = campaign()
    campaign_run(campaign_id=target.pk)
    _due_now()
    messages_send_batch()
    sent = {message.to[0]: message for message in mail.outbox}
    assert len(sent) == 2
    ru = sent[russian.emails.get().address]
    en = sent[english.emails.get().address]
    assert ru.subject.startswith("Анна, скидка") and "мы скучаем" in ru.body and "не получать предложения" in ru.body
    assert en.subject.startswith("John, ") and "we miss you" in en.body and "To stop receiving offers" in en.body
    recipient = CampaignRecipient.objects.get(customer=english)
    assert recipient.coupon is not None
    assert recipient.coupon.code in str(en.body)
    assert reverse("campaign_click", args=[click_token(recipient.pk)]) in en.body


def test_the_offer_grows_with_churn_risk_along_the_rules_curve() -> None:
    low, high = person(risk=0.6), person(risk=0.9)
    campaign_run(campaign_id=campaign().pk)
    assert CampaignRecipient.objects.get(customer=low).coupon.value == Decimal("9.00")  # type: ignore[union-attr]
    assert CampaignRecipient.objects.get(customer=high).coupon.value == Decimal("20.00")  # type: ignore[union-attr]


def test_a_campaign_over_budget_stops() -> None:
    people = [person(risk=0.9) for _ in range(5)]  # 20 % of a 2,000.00 average order: 400.00 each
    target = campaign(budget=Decimal("1000.00"))
    campaign_run(campaign_id=target.pk)
    target.refresh_from_db()
    statuses = [CampaignRecipient.objects.get(customer=p).status for p in people]
    assert statuses.count(RecipientStatus.QUEUED) == 2
    assert statuses.count(RecipientStatus.OVER_BUDGET) == 3
    assert target.spent == Decimal("800.00") and target.stopped_reason == StopReason.BUDGET_SPENT
    person(risk=0.9)
    assert campaign_run(campaign_id=target.pk, now=timezone.now() + timedelta(days=1)).entered == 0
    assert Message.objects.count() == 2


def test_the_cap_counts_surveys_and_skips_a_capped_customer_at_selection() -> None:
    MessagingSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1, "cap_days": 7})
    capped, free = person(), person()
    MessageFactory.create(customer=capped, purpose=Purpose.SERVICE, kind="survey.invitation")
    campaign_run(campaign_id=campaign().pk)
    assert CampaignRecipient.objects.get(customer=capped).status == RecipientStatus.CAPPED
    assert CampaignRecipient.objects.get(customer=free).status == RecipientStatus.QUEUED


def test_two_overlapping_campaigns_never_exceed_the_cap() -> None:
    MessagingSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 2, "cap_days": 7})
    customer = person(risk=0.7)
    first, second = campaign(name="One"), campaign(name="Two")
    campaign_run(campaign_id=first.pk)
    campaign_run(campaign_id=second.pk)
    assert Message.objects.filter(customer=customer, state=MessageState.DUE).count() == 2  # both queued the same day
    # Then a survey leaves: with it, only one of the two offers fits under the cap when they are claimed.
    MessageFactory.create(customer=customer, state=MessageState.SENT, claimed_at=timezone.now(), sent_at=timezone.now())
    _due_now()
    messages_send_batch()
    assert len(mail.outbox) == 1
    states = sorted(CampaignRecipient.objects.values_list("status", flat=True))
    assert states == [RecipientStatus.CANCELLED, RecipientStatus.SENT]
    cancelled = CampaignRecipient.objects.get(status=RecipientStatus.CANCELLED)
    assert cancelled.coupon.revoked_at is not None  # type: ignore[union-attr]
    assert Campaign.objects.get(pk=cancelled.campaign_id).spent == Decimal("0.00")


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_never_exceed_the_cap() -> None:
    MessagingSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 2, "cap_days": 7})
    customer = person()
    for _number in range(6):
        MessageFactory.create(
            customer=customer,
            purpose=Purpose.MARKETING,
            kind="test.offer",
            due_at=timezone.now() - timedelta(minutes=1),
        )
    barrier = threading.Barrier(3)
    claimed: list[int] = []

    def claim() -> None:
        barrier.wait()
        try:
            claimed.extend(m.pk for m in messages_claim(limit=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 2
    assert Message.objects.filter(state=MessageState.SENDING).count() == 2
    assert Message.objects.filter(state=MessageState.CANCELLED).count() == 4


def test_an_unsubscribe_takes_effect_before_the_next_batch() -> None:
    customer = person(risk=0.7)
    earlier = MessageFactory.create(customer=customer, purpose=Purpose.MARKETING, state=MessageState.SENT)
    campaign_run(campaign_id=campaign().pk)
    marketing_unsubscribe(message_id=earlier.pk)
    _due_now()
    messages_send_batch()
    assert mail.outbox == []
    row = CampaignRecipient.objects.get(customer=customer)
    assert row.status == RecipientStatus.CANCELLED and row.coupon.revoked_at is not None  # type: ignore[union-attr]


def test_a_withdrawal_after_the_claim_still_stops_the_message() -> None:
    customer = person(risk=0.7)
    campaign_run(campaign_id=campaign().pk)
    _due_now()
    batch = messages_claim()
    customer.__class__.objects.filter(pk=customer.pk).update(email_consent=False)
    from messaging.services import messages_send

    messages_send(batch)
    assert mail.outbox == []
    assert CampaignRecipient.objects.get(customer=customer).status == RecipientStatus.CANCELLED


def test_the_tracked_link_counts_the_click_and_goes_to_the_shop(client: Client) -> None:
    customer = person(risk=0.7)
    campaign_run(campaign_id=campaign(link_url="https://shop.example/sale").pk)
    row = CampaignRecipient.objects.get(customer=customer)
    url = reverse("campaign_click", args=[click_token(row.pk)])
    assert client.get(url).headers["Location"] == "https://shop.example/sale"
    client.get(url)
    row.refresh_from_db()
    assert row.clicks == 2 and row.clicked_at is not None
    assert client.get(reverse("campaign_click", args=[f"{row.pk}-forged"])).status_code == 404


def test_results_count_sends_clicks_redemptions_and_orders_after_for_treated_and_control() -> None:
    people = [person(risk=0.7) for _ in range(30)]
    target = campaign(control_share=Decimal("0.3"))
    campaign_run(campaign_id=target.pk)
    _due_now()
    messages_send_batch()
    treated = CampaignRecipient.objects.filter(campaign=target, group=Group.TREATED).order_by("pk")
    control = CampaignRecipient.objects.filter(campaign=target, group=Group.CONTROL).order_by("pk")
    first = treated[0]
    CampaignRecipient.objects.filter(pk=first.pk).update(clicked_at=timezone.now())
    assert first.coupon_id is not None
    Coupon.objects.filter(pk=first.coupon_id).update(used_at=timezone.now())
    OrderFactory.create(customer_id=first.customer_id, status=OrderStatus.DELIVERED, total=Decimal("3000.00"))
    OrderFactory.create(customer_id=control[0].customer_id, status=OrderStatus.DELIVERED, total=Decimal("1000.00"))
    # Placed before entering: not counted.
    OrderFactory.create(customer_id=control[1].customer_id, status=OrderStatus.DELIVERED,
                        placed_at=timezone.now() - timedelta(days=5))  # fmt: skip
    results = campaign_results(target)
    assert results["treated"].customers == treated.count() and results["control"].customers == control.count()
    assert results["treated"].customers + results["control"].customers == len(people)
    assert results["treated"].statuses == {RecipientStatus.SENT: treated.count()}
    assert results["control"].statuses == {RecipientStatus.CONTROL: control.count()}
    assert (results["treated"].clicked, results["treated"].redeemed) == (1, 1)
    assert (results["treated"].orders, results["control"].orders) == (1, 1)
    assert results["treated"].margin == Decimal("3000.00") * Decimal("0.30")  # the default 30 % margin


def test_reward_loyalty_announces_the_tier_and_the_next_step_after_a_delivery() -> None:
    rule = LoyaltyRule.objects.create(
        name="Tiers", kind="cumulative", params={"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]},
        is_active=True,
    )  # fmt: skip
    customer = person(language="en", risk=0.1, orders=7, name="Anna Smith")
    target = campaign(schedule=Schedule.AFTER_DELIVERY, rule=rule, churn_min=None, templates={
        "en": {"subject": "Thanks", "email": "{name}, {offer}.", "sms": "{offer}"},
        "ru": {"subject": "Спасибо", "email": "{name}, {offer}.", "sms": "{offer}"},
    }, last_run_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    for _ in range(7):
        OrderFactory.create(customer=customer, status=OrderStatus.DELIVERED, status_changed_at=timezone.now())
    campaign_run(campaign_id=target.pk)
    texts = list(Message.objects.filter(customer=customer).values_list("body", flat=True))
    assert len(texts) == 7  # one per delivered order
    assert texts[0] == "Anna, your discount is now 5 %, 3 more orders to 10 %."
    assert campaign_run(campaign_id=target.pk).entered == 0


def test_queued_messages_wait_for_the_end_of_quiet_hours() -> None:
    zone = ZoneInfo(ShopSettings.load().time_zone)
    now = timezone.now()
    hour = now.astimezone(zone).hour
    MessagingSettings.objects.update_or_create(pk=1, defaults={"quiet_from": hour, "quiet_until": (hour + 1) % 24})
    person(risk=0.7)
    campaign_run(campaign_id=campaign().pk, now=now)
    due = Message.objects.get().due_at.astimezone(zone)
    assert (due.hour, due.minute) == ((hour + 1) % 24, 0)
    assert timedelta(0) < due - now <= timedelta(hours=1)
