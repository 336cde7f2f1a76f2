"""Writes of the feedback app: scheduling invitations, sending them at most once, answers and follow-ups."""

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import Customer
from feedback.links import survey_path, unsubscribe_path
from feedback.models import (
    FeedbackSettings,
    FollowUp,
    FollowUpComment,
    FollowUpState,
    Invitation,
    InvitationChannel,
    InvitationSkip,
    InvitationState,
    NegativeFeedback,
    Response,
    SkipReason,
    Unsubscribe,
)
from feedback.signals import detractor_answered
from feedback.sms import sms_backend
from orders.models import Order, OrderStatus
from shop.models import ShopSettings, User

# A "sending" row older than this belongs to a worker that died: the message may have left, so it is not resent.
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 4


def quiet_adjusted(moment: datetime, *, zone: ZoneInfo, quiet_from: int, quiet_until: int) -> datetime:
    """Move ``moment`` out of the quiet hours to their end, in the shop's local time."""
    local = moment.astimezone(zone)
    if quiet_from == quiet_until:
        return moment
    hour = local.hour
    in_quiet = (
        (hour >= quiet_from or hour < quiet_until) if quiet_from > quiet_until else quiet_from <= hour < quiet_until
    )
    if not in_quiet:
        return moment
    day = local.date() if hour < quiet_until else local.date() + timedelta(days=1)
    return datetime.combine(day, time(quiet_until), tzinfo=zone)


def invitation_due_at(*, delivered_at: datetime, config: FeedbackSettings, zone: ZoneInfo) -> datetime:
    if config.timing_mode == "after_hours":
        moment = delivered_at + timedelta(hours=config.after_hours)
    else:
        next_day = delivered_at.astimezone(zone).date() + timedelta(days=1)
        moment = datetime.combine(next_day, time(config.next_day_hour), tzinfo=zone)
    return quiet_adjusted(moment, zone=zone, quiet_from=config.quiet_from, quiet_until=config.quiet_until)


def _channel_for(customer: Customer, config: FeedbackSettings) -> tuple[str, str] | SkipReason:
    email = customer.emails.order_by("id").values_list("address", flat=True).first() if customer.email_consent else None
    phone = customer.phones.order_by("id").values_list("number", flat=True).first() if customer.sms_consent else None
    options = [(InvitationChannel.EMAIL, email), (InvitationChannel.SMS, phone)]
    if config.channel_preference == "sms_first":
        options.reverse()
    for channel, address in options:
        if address:
            return str(channel), address
    if not customer.email_consent and not customer.sms_consent:
        return SkipReason.NO_CONSENT
    return SkipReason.NO_ADDRESS


def invitations_schedule(*, order_ids: Sequence[int]) -> int:
    """Write an invitation, or a skip with its reason, for each delivered order that has neither.

    Idempotent: the one-to-one keys on order stop a second row, so the receiver, a retried task and the sweeper may
    all call it for the same order. Each order is its own transaction, locking the customer row so that two orders
    of one customer delivered together respect the frequency cap. Returns how many invitations were written."""
    config = FeedbackSettings.load()
    zone = ZoneInfo(ShopSettings.load().time_zone)
    written = 0
    orders = Order.objects.filter(pk__in=order_ids, status=OrderStatus.DELIVERED).filter(
        feedback_invitation__isnull=True, feedback_skip__isnull=True
    )
    for order in orders.only("id", "customer_id", "delivered_at", "status_changed_at"):
        try:
            with transaction.atomic():
                written += _schedule_one(order, config=config, zone=zone)
        except IntegrityError:
            # Another worker wrote this order's row first: that row is the answer.
            continue
    return written


def _schedule_one(order: Order, *, config: FeedbackSettings, zone: ZoneInfo) -> int:
    customer = Customer.objects.select_for_update().get(pk=order.customer_id)
    delivered_at = order.delivered_at or order.status_changed_at
    reason: SkipReason | None = None
    if not config.enabled:
        reason = SkipReason.DISABLED
    elif customer.erased_at is not None:
        reason = SkipReason.ERASED
    elif Unsubscribe.objects.filter(customer=customer).exists():
        reason = SkipReason.UNSUBSCRIBED
    elif Invitation.objects.filter(
        customer=customer, created_at__gte=timezone.now() - timedelta(days=config.cap_days)
    ).exists():
        reason = SkipReason.CAPPED
    choice = None if reason else _channel_for(customer, config)
    if isinstance(choice, SkipReason):
        reason = choice
    if reason is not None or choice is None:
        InvitationSkip.objects.create(order=order, customer=customer, reason=reason or SkipReason.NO_ADDRESS)
        return 0
    channel, address = choice
    due_at = invitation_due_at(delivered_at=delivered_at, config=config, zone=zone)
    Invitation.objects.create(
        order=order,
        customer=customer,
        channel=channel,
        address=address,
        language=customer.language,
        due_at=due_at,
        reminder_due_at=due_at + timedelta(days=config.reminder_days) if config.reminder_days else None,
    )
    return 1


def invitation_claim(*, invitation_id: int) -> bool:
    """Claim a due invitation for sending with a committed conditional UPDATE; False when someone else has it.

    Committed before the outside call on purpose: a worker killed after the call cannot leave the row claimable
    again, which is what keeps sending at most once."""
    now = timezone.now()
    with transaction.atomic():
        changed = Invitation.objects.filter(pk=invitation_id, state=InvitationState.DUE).update(
            state=InvitationState.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return changed == 1


def survey_url(invitation: Invitation) -> str:
    return f"{getattr(settings, 'PUBLIC_BASE_URL', 'http://localhost:8000').rstrip('/')}{survey_path(invitation)}"


def unsubscribe_url(invitation: Invitation) -> str:
    return f"{getattr(settings, 'PUBLIC_BASE_URL', 'http://localhost:8000').rstrip('/')}{unsubscribe_path(invitation)}"


def _deliver(invitation: Invitation, *, reminder: bool) -> None:
    shop_name = ShopSettings.load().name
    with translation.override(invitation.language or "ru"):
        context = {
            "shop_name": shop_name,
            "survey_url": survey_url(invitation),
            "unsubscribe_url": unsubscribe_url(invitation),
            "order_number": invitation.order.external_id,
            "reminder": reminder,
        }
        if invitation.channel == InvitationChannel.EMAIL:
            subject = _("How was your order from %(shop)s?") % {"shop": shop_name}
            message = EmailMultiAlternatives(
                subject=subject,
                body=render_to_string("feedback/email/invitation.txt", context),
                to=[invitation.address],
                headers={"Message-ID": f"<feedback-{invitation.public_token}-{int(reminder)}@retain>"},
            )
            message.attach_alternative(render_to_string("feedback/email/invitation.html", context), "text/html")
            message.send()
        else:
            text = _("%(shop)s: how was your order? %(url)s") % {"shop": shop_name, "url": context["survey_url"]}
            sms_backend().send(phone=invitation.address, text=text, message_id=f"{invitation.pk}-{int(reminder)}")


def invitation_send(*, invitation_id: int) -> str:
    """Send one invitation at most once: claim (committed), call the backend, record the outcome.

    A failure before the backend accepted the message puts the row back to due with a later time (backoff) until
    MAX_ATTEMPTS, then marks it failed with the error. Returns the final state."""
    if not invitation_claim(invitation_id=invitation_id):
        return "skipped"
    invitation = Invitation.objects.select_related("order").get(pk=invitation_id)
    try:
        _deliver(invitation, reminder=False)
    except Exception as error:  # Any backend error is recorded on the row, never lost.
        if invitation.attempts >= MAX_ATTEMPTS:
            Invitation.objects.filter(pk=invitation_id).update(state=InvitationState.FAILED, error=str(error)[:2000])
            return InvitationState.FAILED
        backoff = timedelta(minutes=2**invitation.attempts)
        Invitation.objects.filter(pk=invitation_id).update(
            state=InvitationState.DUE, due_at=timezone.now() + backoff, error=str(error)[:2000]
        )
        return InvitationState.DUE
    Invitation.objects.filter(pk=invitation_id, state=InvitationState.SENDING).update(
        state=InvitationState.SENT, sent_at=timezone.now(), error=""
    )
    return InvitationState.SENT


def invitations_due_batch(*, limit: int = 500) -> list[int]:
    """Ids of due invitations, locked with SKIP LOCKED so parallel senders take different rows."""
    with transaction.atomic():
        return list(
            Invitation.objects.due(timezone.now())
            .select_for_update(skip_locked=True)
            .order_by("due_at")
            .values_list("id", flat=True)[:limit]
        )


def invitations_mark_stale_claims(*, now: datetime | None = None) -> int:
    """A row left in "sending" past the timeout had its worker die mid-send; it becomes "unknown" for a person
    to check, never resent, because the message may already have reached the customer."""
    now = now or timezone.now()
    return Invitation.objects.filter(state=InvitationState.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        state=InvitationState.UNKNOWN, error=_("The worker stopped while sending; the message may have left.")
    )


def reminders_send(*, limit: int = 500) -> int:
    """One reminder for sent, unanswered invitations whose reminder is due; claimed by setting reminder_sent_at."""
    now = timezone.now()
    sent = 0
    ids = list(
        Invitation.objects.filter(
            state=InvitationState.SENT, reminder_sent_at__isnull=True, reminder_due_at__lte=now
        ).values_list("id", flat=True)[:limit]
    )
    for pk in ids:
        if not Invitation.objects.filter(pk=pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now):
            continue
        if Unsubscribe.objects.filter(customer__feedback_invitations=pk).exists():
            continue
        invitation = Invitation.objects.select_related("order").get(pk=pk)
        try:
            _deliver(invitation, reminder=True)
            sent += 1
        except Exception:  # noqa: S112 - a reminder is a courtesy; the claim already stops a second one
            continue
    return sent


class AlreadyAnswered(Exception):
    pass


def response_submit(
    *, invitation: Invitation, product_score: int, service_score: int, recommend_score: int, comment: str
) -> Response:
    """Record the one answer of an invitation; an unhappy one opens a follow-up and a churn-risk signal.

    Locks the invitation row; a second answer raises AlreadyAnswered (the one-to-one key is the last word)."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if Response.objects.filter(invitation=locked).exists():
            raise AlreadyAnswered
        response = Response.objects.create(
            invitation=locked,
            customer_id=locked.customer_id,
            product_score=product_score,
            service_score=service_score,
            recommend_score=recommend_score,
            comment=comment.strip(),
        )
        Invitation.objects.filter(pk=locked.pk).update(state=InvitationState.ANSWERED)
        if response.is_unhappy:
            FollowUp.objects.create(
                response=response,
                customer_id=locked.customer_id,
                order_id=locked.order_id,
                due_at=timezone.now() + timedelta(days=1),
            )
            NegativeFeedback.objects.create(
                customer_id=locked.customer_id, response=response, recommend_score=recommend_score
            )
            customer_id, response_id = locked.customer_id, response.pk
            transaction.on_commit(
                lambda: detractor_answered.send(
                    sender="feedback",
                    customer_id=customer_id,
                    response_id=response_id,
                    recommend_score=recommend_score,
                )
            )
    return response


def customer_unsubscribe(*, customer_id: int) -> None:
    """Stop surveys for a customer: idempotent, and the invitations still waiting are dropped."""
    with transaction.atomic():
        Unsubscribe.objects.get_or_create(customer_id=customer_id)
        Invitation.objects.filter(customer_id=customer_id, state=InvitationState.DUE).update(
            state=InvitationState.FAILED, error=_("Unsubscribed before sending.")
        )


def follow_up_update(
    *, follow_up: FollowUp, author: User, state: str, assignee_id: int | None, outcome: str, comment: str
) -> FollowUp:
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        locked.state = state
        locked.assignee_id = assignee_id
        if state == FollowUpState.RESOLVED:
            locked.outcome = outcome
            locked.resolved_at = locked.resolved_at or timezone.now()
        locked.save()
        if comment.strip():
            FollowUpComment.objects.create(follow_up=locked, author=author, text=comment.strip())
    return locked
