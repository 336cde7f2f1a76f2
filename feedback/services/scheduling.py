"""Scheduling survey invitations for delivered orders: a batch of orders in one transaction, set-based reads and
one insert of invitations and one of skips (``shop.bulk_insert.objects_insert``)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from customers.models import Customer, CustomerEmail, CustomerPhone
from feedback.models import (
    ChannelPreference,
    FeedbackSettings,
    Invitation,
    InvitationChannel,
    InvitationSkip,
    SkipReason,
    TimingMode,
    Unsubscribe,
    new_public_token,
)
from feedback.services.sending import INVITATION_KIND, invitation_message, message_source
from messaging.models import MessagingSettings
from messaging.services import messages_enqueue, quiet_adjusted
from orders.models import Order, OrderStatus
from shop.bulk_insert import objects_insert
from shop.models import ShopSettings


def invitation_due_at(
    *, delivered_at: datetime, config: FeedbackSettings, zone: ZoneInfo, quiet: MessagingSettings
) -> datetime:
    """The survey's hour by the owner's timing, moved out of the quiet hours that every message obeys."""
    if config.timing_mode == TimingMode.AFTER_HOURS:
        moment = delivered_at + timedelta(hours=config.after_hours)
    else:
        next_day = delivered_at.astimezone(zone).date() + timedelta(days=1)
        moment = datetime.combine(next_day, time(config.next_day_hour), tzinfo=zone)
    return quiet_adjusted(moment, zone=zone, quiet_from=quiet.quiet_from, quiet_until=quiet.quiet_until)


@dataclass(frozen=True)
class _Recipient:
    """What scheduling needs to know about a customer, read for the whole batch at once."""

    erased: bool
    email_consent: bool
    sms_consent: bool
    language: str
    email: str | None
    phone: str | None


def _first_address_by_customer(rows: Iterable[tuple[int, str]]) -> dict[int, str]:
    """The first address of each customer from rows in the model's order (primary first, then the oldest)."""
    first: dict[int, str] = {}
    for customer_id, address in rows:
        first.setdefault(customer_id, address)
    return first


def _recipients(customer_ids: list[int]) -> dict[int, _Recipient]:
    """Lock the customers (in id order, so two batches sharing customers cannot deadlock) and read their consent
    and first addresses with three queries for the whole batch.

    The row lock is what makes the frequency cap hold between concurrent batches: a second batch for the same
    customer waits here until the first has committed its invitation, and then sees it."""
    customers = list(
        Customer.objects.select_for_update()
        .filter(pk__in=customer_ids)
        .order_by("pk")
        .values_list("pk", "erased_at", "email_consent", "sms_consent", "language")
    )
    emails = _first_address_by_customer(
        CustomerEmail.objects.filter(customer_id__in=customer_ids)
        .exclude(address="")
        .values_list("customer_id", "address")
    )
    phones = _first_address_by_customer(
        CustomerPhone.objects.filter(customer_id__in=customer_ids)
        .exclude(number="")
        .values_list("customer_id", "number")
    )
    return {
        pk: _Recipient(
            erased=erased_at is not None,
            email_consent=email_consent,
            sms_consent=sms_consent,
            language=language,
            email=emails.get(pk),
            phone=phones.get(pk),
        )
        for pk, erased_at, email_consent, sms_consent, language in customers
    }


def _channel_for(recipient: _Recipient, preference: str) -> tuple[str, str] | SkipReason:
    options = [
        (InvitationChannel.EMAIL, recipient.email if recipient.email_consent else None),
        (InvitationChannel.SMS, recipient.phone if recipient.sms_consent else None),
    ]
    if preference == ChannelPreference.SMS_FIRST:
        options.reverse()
    for channel, address in options:
        if address:
            return str(channel), address
    if not recipient.email_consent and not recipient.sms_consent:
        return SkipReason.NO_CONSENT
    return SkipReason.NO_ADDRESS


def invitations_schedule(*, order_ids: Sequence[int]) -> int:
    """Write an invitation, or a skip with its reason, for each delivered order of the batch that has neither.

    One transaction for the batch: the customers are locked first (id order), then every read is one query for the
    whole batch (orders still unscheduled, unsubscribes, invitations inside the cap window, consent and addresses),
    the decisions are made in memory in order id order (so of two orders of one customer the first is asked and the
    second is capped), and the rows go in with one bulk insert each.

    Idempotent: the one-to-one keys on order are the guard against a second row (ON CONFLICT DO NOTHING), so the
    receiver, a retried task and the sweeper may all pass the same order. Returns how many invitations were
    written (exact, because the customer locks keep concurrent batches from writing the same order's row)."""
    if not order_ids:
        return 0
    config = FeedbackSettings.load()
    zone = ZoneInfo(ShopSettings.load().time_zone)
    now = timezone.now()
    candidates = Order.objects.filter(pk__in=order_ids, status=OrderStatus.DELIVERED)
    with transaction.atomic():
        customer_ids = sorted(set(candidates.values_list("customer_id", flat=True)))
        recipients = _recipients(customer_ids)
        # Read after the locks: a batch that held one of these customers has committed, and its rows count here.
        orders = list(
            candidates.filter(feedback_invitation__isnull=True, feedback_skip__isnull=True)
            .order_by("pk")
            .values_list("pk", "customer_id", "delivered_at", "status_changed_at", "external_id")
        )
        unsubscribed, asked_recently = _unsubscribed_and_asked(
            customer_ids, since=now - timedelta(days=config.cap_days)
        )
        invitations, skips, numbers = _plan(
            orders,
            recipients,
            unsubscribed=unsubscribed,
            asked_recently=asked_recently,
            config=config,
            zone=zone,
            now=now,
        )
        # The outbox rows first (one per order, by their unique name), then the invitations that point at them.
        queued = messages_enqueue(
            items=[invitation_message(row, order_number=numbers[row.order_id]) for row in invitations]
        )
        for row in invitations:
            row.message_id = queued.get((INVITATION_KIND, message_source(row.order_id)))
        objects_insert(invitations, ignore_conflicts=True)
        objects_insert(skips, ignore_conflicts=True)
    return len(invitations)


def _plan(
    orders: list[tuple[int, int, datetime | None, datetime, str]],
    recipients: dict[int, _Recipient],
    *,
    unsubscribed: set[int],
    asked_recently: set[int],
    config: FeedbackSettings,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[list[Invitation], list[InvitationSkip], dict[int, str]]:
    """Decide each order in order id order: an invitation (with its order number, for the message) or a skip with
    its reason. The cap counts an invitation decided here for the customer's next order in the same batch."""
    quiet = MessagingSettings.load()
    invitations: list[Invitation] = []
    skips: list[InvitationSkip] = []
    numbers: dict[int, str] = {}
    for order_id, customer_id, delivered_at, status_changed_at, number in orders:
        recipient = recipients[customer_id]
        decision = _decide(
            recipient,
            config=config,
            unsubscribed=customer_id in unsubscribed,
            capped=customer_id in asked_recently,
        )
        if isinstance(decision, SkipReason):
            skips.append(InvitationSkip(order_id=order_id, customer_id=customer_id, reason=decision, created_at=now))
            continue
        channel, address = decision
        due_at = invitation_due_at(
            delivered_at=delivered_at or status_changed_at, config=config, zone=zone, quiet=quiet
        )
        invitations.append(
            _invitation(
                order_id,
                customer_id,
                recipient,
                channel=channel,
                address=address,
                due_at=due_at,
                config=config,
                now=now,
            )
        )
        numbers[order_id] = number
        # The cap counts this invitation for the customer's next order in the same batch.
        asked_recently.add(customer_id)
    return invitations, skips, numbers


def _unsubscribed_and_asked(customer_ids: Sequence[int], *, since: datetime) -> tuple[set[int], set[int]]:
    """Of these customers: who unsubscribed from surveys, and who was asked since ``since`` (the cap window)."""
    unsubscribed = set(Unsubscribe.objects.filter(customer_id__in=customer_ids).values_list("customer_id", flat=True))
    asked = set(
        Invitation.objects.filter(customer_id__in=customer_ids, created_at__gte=since).values_list(
            "customer_id", flat=True
        )
    )
    return unsubscribed, asked


def _invitation(
    order_id: int,
    customer_id: int,
    recipient: _Recipient,
    *,
    channel: str,
    address: str,
    due_at: datetime,
    config: FeedbackSettings,
    now: datetime,
) -> Invitation:
    return Invitation(
        order_id=order_id,
        customer_id=customer_id,
        channel=channel,
        address=address,
        language=recipient.language,
        due_at=due_at,
        reminder_due_at=due_at + timedelta(days=config.reminder_days) if config.reminder_days else None,
        public_token=new_public_token(),
        created_at=now,
    )


def _decide(
    recipient: _Recipient, *, config: FeedbackSettings, unsubscribed: bool, capped: bool
) -> tuple[str, str] | SkipReason:
    if not config.enabled:
        return SkipReason.DISABLED
    if recipient.erased:
        return SkipReason.ERASED
    if unsubscribed:
        return SkipReason.UNSUBSCRIBED
    if capped:
        return SkipReason.CAPPED
    return _channel_for(recipient, config.channel_preference)
