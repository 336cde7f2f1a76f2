"""The demo's survey history (``manage.py seed_feedback``): survey invitations, answers, follow-ups and churn signals for the demo shop.

The demo's orders are written in bulk without the ``order_delivered`` signal, so no survey was ever scheduled.
This command replays what the live code would have done for each delivered order of the last months: the real
scheduling rules decide the channel or the skip reason (consent, addresses, the frequency cap, unsubscribes), the
invitation goes out at the hour the settings say, about a third of the customers answer within a few days, and an
unhappy answer gets its follow-up and the churn signals that ``feedback.services.answers`` raises (same kinds,
sources, details and weights). Rows go in with ``bulk_create``, one transaction per batch of customers; the signals
are written directly rather than through ``churn_signal_raise`` because that service queues a rescoring per
customer, while the demo's ``scoring_run`` that follows rescores everyone at once.
"""

import base64
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from demo.answers import answers_draw, follow_ups_write
from feedback.models import (
    FeedbackSettings,
    FollowUpState,
    Invitation,
    InvitationChannel,
    InvitationSkip,
    InvitationState,
    Response,
    SkipReason,
    Unsubscribe,
)
from feedback.services.scheduling import _decide, _recipients, invitation_due_at
from feedback.services.sending import INVITATION_KIND, invitation_message, message_source
from messaging.models import MessagingSettings
from messaging.reasons import MessageReason, reason_store
from messaging.services import messages_enqueue
from orders.models import Order, OrderStatus
from shop.models import ShopSettings, User

CUSTOMERS_PER_BATCH = 1000
DEMO_MANAGER = "manager"
# A mailbox that bounces on every attempt: the survey ends up failed after the sender's retries.
FAILED_EMAIL_RATE = 0.01


@dataclass
class _Totals:
    invitations: int = 0
    skips: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    responses: int = 0
    promoters: int = 0
    detractors: int = 0
    follow_ups: Counter[str] = field(default_factory=Counter)
    signals: int = 0

    def summary(self, seconds: float) -> str:
        nps = round(100 * (self.promoters - self.detractors) / self.responses) if self.responses else 0
        skips = ", ".join(f"{count:,} {reason}" for reason, count in sorted(self.skips.items())) or "none"
        return (
            f"Seeded {self.invitations:,} survey invitations ({self.states[InvitationState.SENT]:,} unanswered, "
            f"{self.states[InvitationState.ANSWERED]:,} answered, {self.states[InvitationState.DUE]:,} due, "
            f"{self.states[InvitationState.FAILED]:,} failed), skips: {skips}; {self.responses:,} answers (NPS {nps}), "
            f"{sum(self.follow_ups.values()):,} follow-ups ({self.follow_ups[FollowUpState.OPEN]:,} open, "
            f"{self.follow_ups[FollowUpState.IN_PROGRESS]:,} in progress, "
            f"{self.follow_ups[FollowUpState.RESOLVED]:,} resolved), {self.signals:,} churn signals in {seconds:.1f} s."
        )


@dataclass
class _Context:
    rng: random.Random
    now: datetime
    config: FeedbackSettings
    quiet: MessagingSettings
    zone: ZoneInfo
    manager_id: int | None
    totals: _Totals


def surveys_seed(*, months: int, seed: int | None) -> _Totals:
    """Replay the survey rules on the delivered orders of the last ``months`` months (0: all), one transaction per
    batch of customers walked by id."""
    now = timezone.now()
    since = now - timedelta(days=30.44 * months) if months else None
    context = _Context(
        rng=random.Random(seed),
        now=now,
        config=FeedbackSettings.load(),
        quiet=MessagingSettings.load(),
        zone=ZoneInfo(ShopSettings.load().time_zone),
        manager_id=User.objects.filter(username=DEMO_MANAGER, is_active=True).values_list("pk", flat=True).first(),
        totals=_Totals(),
    )
    last_id = 0
    while True:
        customer_ids = list(
            Customer.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:CUSTOMERS_PER_BATCH]
        )
        if not customer_ids:
            return context.totals
        last_id = customer_ids[-1]
        with transaction.atomic():
            _seed_batch(context, customer_ids, since)


def _delivered(context: _Context, customer_ids: list[int], since: datetime | None) -> list[tuple[int, int, datetime]]:
    """(order, customer, delivered at) of the batch's delivered orders that have no invitation or skip yet."""
    orders = (
        Order.objects.filter(
            customer_id__in=customer_ids,
            status=OrderStatus.DELIVERED,
            feedback_invitation__isnull=True,
            feedback_skip__isnull=True,
        )
        .annotate(delivered=Coalesce("delivered_at", "status_changed_at"))
        .filter(delivered__lte=context.now)
    )
    if since is not None:
        orders = orders.filter(delivered__gte=since)
    return list(orders.order_by("customer_id", "delivered", "pk").values_list("pk", "customer_id", "delivered"))


def _schedule(
    context: _Context, rows: list[tuple[int, int, datetime]], customers: list[int], recipients: dict[int, Any]
) -> tuple[list[Invitation], list[InvitationSkip]]:
    """The live rules' decision for each delivery, in time order: an invitation on a channel, or a skip with its
    reason (consent, addresses, unsubscribes, the frequency cap counted from the customer's last survey)."""
    unsubscribed = set(Unsubscribe.objects.filter(customer_id__in=customers).values_list("customer_id", flat=True))
    last_asked: dict[int, datetime] = dict(
        Invitation.objects.filter(customer_id__in=customers)
        .values("customer_id")
        .annotate(last=Max("created_at"))
        .values_list("customer_id", "last")
    )
    cap = timedelta(days=context.config.cap_days)
    invitations: list[Invitation] = []
    skips: list[InvitationSkip] = []
    for order_id, customer_id, delivered in rows:
        previous = last_asked.get(customer_id)
        decision = _decide(
            recipients[customer_id],
            config=context.config,
            unsubscribed=customer_id in unsubscribed,
            # The scheduler runs at delivery, so "recently" is counted back from the delivery, not from today.
            capped=previous is not None and previous >= delivered - cap,
        )
        if isinstance(decision, SkipReason):
            skips.append(
                InvitationSkip(order_id=order_id, customer_id=customer_id, reason=decision, created_at=delivered)
            )
            context.totals.skips[decision] += 1
            continue
        channel, address = decision
        invitations.append(_invitation(context, order_id, customer_id, delivered, channel, address))
        last_asked[customer_id] = delivered
    return invitations, skips


def _seed_batch(context: _Context, customer_ids: list[int], since: datetime | None) -> None:
    """Schedule, send and answer the surveys of one batch of customers (the caller holds the transaction)."""
    rows = _delivered(context, customer_ids, since)
    if not rows:
        return
    # The live rules' reads: consent and addresses, locking the customers as the scheduler does.
    customers = sorted({customer_id for _, customer_id, _ in rows})
    recipients = _recipients(customers)
    invitations, skips = _schedule(context, rows, customers, recipients)
    answers = answers_draw(context.rng, context.now, invitations)
    for invitation in invitations:
        invitation.language = recipients[invitation.customer_id].language
        context.totals.states[invitation.state] += 1
    context.totals.invitations += len(invitations)
    InvitationSkip.objects.bulk_create(skips, batch_size=1000, ignore_conflicts=True)
    Invitation.objects.bulk_create(invitations, batch_size=1000)
    _queue_due(invitations)
    for invitation, response in answers:
        # The invitation has its id only now; assigning it again copies the id into the answer.
        response.invitation = invitation
    responses = Response.objects.bulk_create([response for _, response in answers], batch_size=1000)
    context.totals.responses += len(responses)
    context.totals.promoters += sum(response.recommend_score >= 9 for response in responses)
    context.totals.detractors += sum(response.is_detractor for response in responses)
    states, signals = follow_ups_write(context.rng, context.now, context.manager_id, responses)
    context.totals.follow_ups.update(states)
    context.totals.signals += signals


def _invitation(
    context: _Context, order_id: int, customer_id: int, delivered: datetime, channel: str, address: str
) -> Invitation:
    """One invitation as the scheduler writes it at delivery, then as the sender leaves it if its hour has come."""
    config, rng, now = context.config, context.rng, context.now
    due_at = invitation_due_at(delivered_at=delivered, config=config, zone=context.zone, quiet=context.quiet)
    invitation = Invitation(
        order_id=order_id,
        customer_id=customer_id,
        channel=channel,
        address=address,
        # Drawn from the seed, so a seeded run gives the same links.
        public_token=base64.urlsafe_b64encode(rng.randbytes(24)).decode().rstrip("="),
        due_at=due_at,
        reminder_due_at=due_at + timedelta(days=config.reminder_days) if config.reminder_days else None,
        created_at=delivered,
    )
    sent_at = due_at + timedelta(seconds=rng.uniform(5, 180))
    if sent_at > now:
        return invitation
    if channel == InvitationChannel.EMAIL and rng.random() < FAILED_EMAIL_RATE:
        invitation.state = InvitationState.FAILED
        invitation.error = reason_store(MessageReason.PROVIDER, detail="550 5.1.1 Mailbox unavailable")
        invitation.reminder_due_at = None
        return invitation
    invitation.state, invitation.sent_at = InvitationState.SENT, sent_at
    return invitation


def _queue_due(invitations: list[Invitation]) -> None:
    """The surveys whose hour has not come yet go in messaging's outbox as the scheduler would put them, so the
    demo's worker sends them; the history that already left needs no outbox row."""
    due = [invitation for invitation in invitations if invitation.state == InvitationState.DUE]
    if not due:
        return
    numbers = dict(Order.objects.filter(pk__in=[i.order_id for i in due]).values_list("pk", "external_id"))
    queued = messages_enqueue(items=[invitation_message(i, order_number=numbers[i.order_id]) for i in due])
    for invitation in due:
        invitation.message_id = queued.get((INVITATION_KIND, message_source(invitation.order_id)))
    Invitation.objects.bulk_update(due, ["message_id"], batch_size=1000)
