"""Answers, unsubscribes and follow-ups; unhappy answers raise churn signals in the scoring engine.

Churn signal weights (what an unhappy answer adds to the customer's churn risk while the signal is active):

- ``DETRACTOR`` 0.15: a recommendation of 0–6 is the strongest survey predictor of leaving (NPS research ties
  detractors to most of the churn a shop can see in answers).
- ``LOW_SATISFACTION`` 0.10: a purchase or service score of 1–2; weaker than a detractor on its own because a
  customer may dislike one parcel and still like the shop, but the two add up when both hold.
- ``COMPLAINT`` 0.10: an open follow-up; cleared when a manager resolves it, because a complaint that was
  handled is, for retention, a recovered relationship rather than a risk.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.models import (
    FOLLOW_UP_REASONS,
    FeedbackSettings,
    FollowUp,
    FollowUpComment,
    FollowUpReason,
    FollowUpState,
    Invitation,
    InvitationSkip,
    InvitationState,
    Response,
    Unsubscribe,
)
from feedback.services.sending import INVITATION_KIND, REMINDER_KIND
from messaging.reasons import MessageReason, reason_store
from messaging.services import messages_cancel
from scoring.models import ChurnSignal
from scoring.services import churn_signal_clear, churn_signal_raise
from shop.models import User

DETRACTOR_WEIGHT = 0.15
LOW_SATISFACTION_WEIGHT = 0.10
COMPLAINT_WEIGHT = 0.10
# The seed's replayed follow-ups are due after the default time to handle one (FeedbackSettings.follow_up_days).
FOLLOW_UP_DUE = timedelta(days=2)


class AlreadyAnswered(Exception):
    pass


def response_source(response: Response) -> str:
    return f"feedback.response:{response.pk}"


def follow_up_source(follow_up: FollowUp) -> str:
    return f"feedback.followup:{follow_up.pk}"


def response_submit(
    *, invitation: Invitation, product_score: int, service_score: int, recommend_score: int, comment: str
) -> Response:
    """Record the one answer of an invitation; an unhappy one opens a follow-up and raises churn signals.

    Locks the invitation row; a second answer raises AlreadyAnswered (the one-to-one key is the last word). The
    signals are written in the same transaction (once per kind and source, so a retry adds nothing) and the
    customer's rescoring is queued after commit by the scoring service."""
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
        _raise_answer_signals(response)
        if response.is_unhappy:
            follow_up = FollowUp.objects.create(
                response=response,
                customer_id=locked.customer_id,
                order_id=locked.order_id,
                due_at=timezone.now() + timedelta(days=FeedbackSettings.load().follow_up_days),
            )
            churn_signal_raise(
                customer_id=locked.customer_id,
                kind=ChurnSignal.Kind.COMPLAINT,
                source=follow_up_source(follow_up),
                detail=_answer_detail(response),
                weight=COMPLAINT_WEIGHT,
            )
    return response


def _answer_detail(response: Response) -> str:
    # Figures, not words: the detail is shown in whatever language the reader of the score uses.
    return f"recommend {response.recommend_score}/10, purchase {response.product_score}/5, service {response.service_score}/5"


def _raise_answer_signals(response: Response) -> None:
    if response.is_detractor:
        churn_signal_raise(
            customer_id=response.customer_id,
            kind=ChurnSignal.Kind.DETRACTOR,
            source=response_source(response),
            detail=_answer_detail(response),
            weight=DETRACTOR_WEIGHT,
        )
    if response.is_low_satisfaction:
        churn_signal_raise(
            customer_id=response.customer_id,
            kind=ChurnSignal.Kind.LOW_SATISFACTION,
            source=response_source(response),
            detail=_answer_detail(response),
            weight=LOW_SATISFACTION_WEIGHT,
        )


def customer_unsubscribe(*, customer_id: int) -> None:
    """Stop surveys for a customer: idempotent; the invitations still waiting are dropped (and their messages in
    the outbox cancelled), and so are the reminders of surveys already sent."""
    with transaction.atomic():
        Unsubscribe.objects.get_or_create(customer_id=customer_id)
        Invitation.objects.filter(customer_id=customer_id, state=InvitationState.DUE).update(
            state=InvitationState.FAILED, error=reason_store(MessageReason.SURVEYS_UNSUBSCRIBED)
        )
        messages_cancel(
            customer_ids=[customer_id],
            kinds=[INVITATION_KIND, REMINDER_KIND],
            reason=reason_store(MessageReason.SURVEYS_UNSUBSCRIBED),
        )
        Invitation.objects.filter(
            customer_id=customer_id, state=InvitationState.SENT, reminder_sent_at__isnull=True
        ).update(reminder_due_at=None)


def follow_up_update(
    *, follow_up: FollowUp, author: User, state: str, assignee_id: int | None, outcome: str, comment: str
) -> FollowUp:
    """Assign, comment, change state. Locks the follow-up row. Resolving clears its complaint signal in the scoring
    engine, and opening it again after it was resolved makes the signal active again (in the same transaction; the
    rescoring is queued after commit)."""
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        was_resolved = locked.state == FollowUpState.RESOLVED
        locked.state = state
        locked.assignee_id = assignee_id
        if state == FollowUpState.RESOLVED:
            locked.outcome = outcome
            locked.resolved_at = locked.resolved_at or timezone.now()
        else:
            locked.outcome, locked.resolved_at = "", None
        locked.save()
        if comment.strip():
            FollowUpComment.objects.create(follow_up=locked, author=author, text=comment.strip())
        if state == FollowUpState.RESOLVED and not was_resolved:
            churn_signal_clear(source=follow_up_source(locked))
        elif was_resolved and state != FollowUpState.RESOLVED and locked.response is not None:
            churn_signal_raise(
                customer_id=locked.customer_id,
                kind=ChurnSignal.Kind.COMPLAINT,
                source=follow_up_source(locked),
                detail=_answer_detail(locked.response),
                weight=COMPLAINT_WEIGHT,
            )
    return locked


def follow_up_open(*, customer_id: int, reason: str, opened_by: User | None) -> tuple[FollowUp, bool]:
    """Open a follow-up for a customer who left no unhappy answer (a churn risk rising on the early-warning list),
    with the reason staff will read; returns it and whether it is new.

    Idempotent per customer: while one opened this way is unresolved, the same one is returned (a unique partial
    index settles two clicks at once; the loser reads the winner's row). Raises no complaint signal: the reason is
    the risk the score already shows, and adding to it would feed the score its own rise."""
    text = reason.strip()[:300]
    if not text:
        raise ValueError("A follow-up opened by staff needs a reason.")
    open_by_staff = FollowUp.objects.filter(customer_id=customer_id, response__isnull=True).exclude(
        state=FollowUpState.RESOLVED
    )
    existing = open_by_staff.first()
    if existing is not None:
        return existing, False
    due = timezone.now() + timedelta(days=FeedbackSettings.load().follow_up_days)
    try:
        with transaction.atomic():
            follow_up = FollowUp.objects.create(customer_id=customer_id, reason=text, opened_by=opened_by, due_at=due)
    except IntegrityError:
        return open_by_staff.get(), False
    return follow_up, True


def follow_up_open_for_warning(
    *, customer_id: int, churn_risk_before: float, churn_risk_now: float, opened_by: User | None
) -> tuple[FollowUp, bool]:
    """A follow-up for a customer on the early-warning list, its reason the rise in churn risk (whole percents),
    stored as a code read in the reader's language (:class:`FollowUpReason`); see :func:`follow_up_open`."""
    reason = FOLLOW_UP_REASONS.store(
        FollowUpReason.EARLY_WARNING, before=round(churn_risk_before * 100), now=round(churn_risk_now * 100)
    )
    return follow_up_open(customer_id=customer_id, reason=reason, opened_by=opened_by)


def survey_records_move(*, from_customer_id: int, to_customer_id: int) -> dict[str, int]:
    """Feedback's merge mover, run inside the merge's transaction: the duplicate's surveys, answers and complaints
    belong to the survivor, whose card shows them; an unsubscribe of either stands for the person. Returns what
    moved."""
    with transaction.atomic():
        moved = {
            "invitations": Invitation.objects.filter(customer_id=from_customer_id).update(customer_id=to_customer_id),
            "skips": InvitationSkip.objects.filter(customer_id=from_customer_id).update(customer_id=to_customer_id),
            "responses": Response.objects.filter(customer_id=from_customer_id).update(customer_id=to_customer_id),
            "follow_ups": FollowUp.objects.filter(customer_id=from_customer_id).update(customer_id=to_customer_id),
        }
        unsubscribed, _ = Unsubscribe.objects.filter(customer_id=from_customer_id).delete()
        if unsubscribed:
            Unsubscribe.objects.get_or_create(customer_id=to_customer_id)
        moved["unsubscribes"] = unsubscribed
    return moved
