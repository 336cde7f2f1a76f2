from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from feedback.models import FeedbackSettings, Invitation, InvitationChannel, InvitationSkip, SkipReason, TimingMode
from feedback.services import customer_unsubscribe, invitation_due_at, invitations_schedule
from feedback.tasks import invitations_sweep_task
from messaging.models import MessagingSettings
from orders.models import Order, OrderStatus
from tests.feedback.helpers import DELIVERED, consent, deliver

MOSCOW = ZoneInfo("Europe/Moscow")
pytestmark = pytest.mark.django_db


def test_delivery_schedules_exactly_one_invitation_next_day_at_noon_moscow() -> None:
    order = deliver()
    consent(order)
    # Twice, as a retried task and the sweeper would: the one-to-one key keeps one row.
    invitations_schedule(order_ids=[order.pk])
    invitations_schedule(order_ids=[order.pk])
    invitation = Invitation.objects.get()
    assert invitation.order_id == order.pk
    assert invitation.due_at == datetime(2026, 3, 3, 12, 0, tzinfo=MOSCOW)
    assert invitation.channel == InvitationChannel.EMAIL
    assert invitation.address == "anna@example.com"


def test_orders_delivered_signal_writes_the_invitation(django_capture_on_commit_callbacks: object) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        order = deliver()
        # Consent given in the same transaction; the receiver runs after commit and sees it.
        consent(order)
    assert Invitation.objects.filter(order=order).count() == 1


def test_orders_delivered_signal_records_why_a_customer_without_consent_is_not_asked(
    django_capture_on_commit_callbacks: object,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        order = deliver()
    assert InvitationSkip.objects.get(order=order).reason == SkipReason.NO_CONSENT
    assert not Invitation.objects.exists()


def test_same_day_mode_waits_the_hours_and_leaves_quiet_hours() -> None:
    config = FeedbackSettings(timing_mode=TimingMode.AFTER_HOURS, after_hours=4)
    quiet = MessagingSettings(quiet_from=21, quiet_until=9)
    # 18:00 Moscow + 4h = 22:00, quiet → next morning 09:00.
    assert invitation_due_at(delivered_at=DELIVERED, config=config, zone=MOSCOW, quiet=quiet) == datetime(
        2026, 3, 3, 9, 0, tzinfo=MOSCOW
    )
    morning = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 10:00 Moscow + 4h = 14:00
    assert invitation_due_at(delivered_at=morning, config=config, zone=MOSCOW, quiet=quiet) == datetime(
        2026, 3, 2, 14, 0, tzinfo=MOSCOW
    )


def test_next_day_hour_inside_quiet_hours_moves_to_their_end() -> None:
    config = FeedbackSettings(timing_mode=TimingMode.NEXT_DAY, next_day_hour=7)
    quiet = MessagingSettings(quiet_from=21, quiet_until=9)
    assert invitation_due_at(delivered_at=DELIVERED, config=config, zone=MOSCOW, quiet=quiet) == datetime(
        2026, 3, 3, 9, 0, tzinfo=MOSCOW
    )


def test_frequency_cap_skips_a_second_order_of_the_same_customer_within_the_cap() -> None:
    first = deliver("A-1")
    consent(first)
    second = deliver("A-2")
    invitations_schedule(order_ids=[first.pk, second.pk])
    assert Invitation.objects.filter(order=first).exists()
    assert InvitationSkip.objects.get(order=second).reason == SkipReason.CAPPED


def test_frequency_cap_lets_an_order_through_after_the_cap() -> None:
    first = deliver("A-1")
    consent(first)
    invitations_schedule(order_ids=[first.pk])
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=31))
    second = deliver("A-2")
    invitations_schedule(order_ids=[second.pk])
    assert Invitation.objects.filter(order=second).exists()


def test_no_consent_means_no_invitation_and_the_reason_is_recorded() -> None:
    order = deliver()
    consent(order, email=False, sms=False)
    invitations_schedule(order_ids=[order.pk])
    assert not Invitation.objects.exists()
    assert InvitationSkip.objects.get(order=order).reason == SkipReason.NO_CONSENT


def test_sms_is_used_when_only_sms_is_consented() -> None:
    order = deliver()
    consent(order, email=False, sms=True)
    invitations_schedule(order_ids=[order.pk])
    invitation = Invitation.objects.get()
    assert (invitation.channel, invitation.address) == (InvitationChannel.SMS, "+79991234567")


def test_unsubscribed_customer_gets_no_further_invitation() -> None:
    first = deliver("A-1")
    consent(first)
    customer_unsubscribe(customer_id=first.customer_id)
    invitations_schedule(order_ids=[first.pk])
    assert not Invitation.objects.exists()
    assert InvitationSkip.objects.get(order=first).reason == SkipReason.UNSUBSCRIBED


def test_sweeper_schedules_a_delivered_order_whose_message_was_lost() -> None:
    order = deliver()
    consent(order)
    Order.objects.filter(pk=order.pk).update(status_changed_at=timezone.now())
    invitations_sweep_task()
    assert Invitation.objects.filter(order=order).count() == 1
    invitations_sweep_task()
    assert Invitation.objects.filter(order=order).count() == 1


def _queries_to_schedule(order_ids: list[int]) -> int:
    with CaptureQueriesContext(connection) as queries:
        invitations_schedule(order_ids=order_ids)
    return len(queries)


def test_scheduling_reads_and_writes_a_batch_with_the_same_queries_whatever_its_size() -> None:
    small = [deliver(f"S-{n}", phone=f"+7999700{n:04d}", email=f"s{n}@example.com") for n in range(2)]
    large = [deliver(f"L-{n}", phone=f"+7999800{n:04d}", email=f"l{n}@example.com") for n in range(12)]
    for order in small + large:
        consent(order, email=order.pk % 2 == 0, sms=True)
    FeedbackSettings.load()  # the first load creates the row; that is not the batch's cost
    MessagingSettings.load()  # nor is the quiet hours' row
    assert _queries_to_schedule([order.pk for order in small]) == _queries_to_schedule([o.pk for o in large])
    assert Invitation.objects.count() == 14


def test_an_erased_customer_is_not_asked_and_the_reason_is_recorded() -> None:
    order = deliver()
    consent(order)
    Customer.objects.filter(pk=order.customer_id).update(erased_at=timezone.now())
    invitations_schedule(order_ids=[order.pk])
    assert InvitationSkip.objects.get(order=order).reason == SkipReason.ERASED


def test_an_order_not_delivered_is_not_scheduled() -> None:
    order = deliver()
    consent(order)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.RETURNED)
    assert invitations_schedule(order_ids=[order.pk]) == 0
    assert not Invitation.objects.exists() and not InvitationSkip.objects.exists()
