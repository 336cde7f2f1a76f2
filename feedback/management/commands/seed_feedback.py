"""``manage.py seed_feedback``: survey invitations, answers, follow-ups and churn signals for the demo shop.

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
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from feedback.models import (
    FeedbackSettings,
    FollowUp,
    FollowUpComment,
    FollowUpOutcome,
    FollowUpState,
    Invitation,
    InvitationChannel,
    InvitationSkip,
    InvitationState,
    Response,
    SkipReason,
    Unsubscribe,
)
from feedback.services.answers import (
    COMPLAINT_WEIGHT,
    DETRACTOR_WEIGHT,
    FOLLOW_UP_DUE,
    LOW_SATISFACTION_WEIGHT,
    _answer_detail,
    follow_up_source,
    response_source,
)
from feedback.services.scheduling import _decide, _recipients, invitation_due_at
from feedback.services.sending import INVITATION_KIND, invitation_message, message_source
from messaging.services import MAX_ATTEMPTS, messages_enqueue
from orders.models import Order, OrderStatus
from scoring.models import ChurnSignal
from shop.models import ShopSettings, User

CUSTOMERS_PER_BATCH = 1000
DEMO_MANAGER = "manager"
# Share of sent surveys that get an answer: e-commerce post-delivery surveys see 25–40 %.
ANSWER_RATE = 0.35
# A mailbox that bounces on every attempt: the survey ends up failed after the sender's retries.
FAILED_EMAIL_RATE = 0.01

# (share, recommend scores with weights, purchase scores, service scores): mostly promoters, ~12 % detractors;
# the 1–5 satisfaction follows the recommendation, with the odd passive unhappy about one side only.
_GROUPS: list[tuple[str, float, dict[int, int], list[int], list[int]]] = [
    ("promoter", 0.60, {9: 45, 10: 55}, [5, 5, 5, 4, 4, 5, 4, 3], [5, 5, 4, 5, 4, 5, 4, 3]),
    ("passive", 0.28, {7: 45, 8: 55}, [4, 4, 5, 3, 4, 3, 5, 4, 2], [4, 4, 3, 5, 4, 3, 4, 4, 3, 2]),
    ("detractor", 0.12, {0: 1, 1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 7}, [1, 2, 2, 3, 3, 4], [1, 1, 2, 2, 3, 3, 4]),
]
_COMMENTS = {
    "promoter": [
        "Всё отлично, спасибо!",
        "Быстрая доставка, всё пришло целым.",
        "Уже не первый раз заказываю — всегда доволен.",
        "Качество отличное, буду заказывать ещё.",
        "Спасибо за открытку в посылке, приятно!",
        "Курьер был очень вежлив.",
        "Всё как на фото, размер подошёл.",
    ],
    "passive": [
        "В целом хорошо, но доставка могла быть быстрее.",
        "Товар нормальный, упаковка помята.",
        "Цены могли бы быть пониже.",
        "Нормально, без восторга.",
        "Долго ждала подтверждения заказа.",
        "Цвет немного отличается от фото.",
    ],
    "detractor": [
        "Курьер опоздал на два часа",
        "Пришёл не тот размер, пришлось возвращать.",
        "Товар с браком, жду ответа уже неделю.",
        "Обещали перезвонить и не перезвонили.",
        "Упаковка порвана, коробка мокрая.",
        "Заказ шёл почти три недели.",
        "Оператор был груб по телефону.",
    ],
}
_COMMENT_RATE = {"promoter": 0.3, "passive": 0.45, "detractor": 0.8}
_OUTCOMES = {
    FollowUpOutcome.APOLOGISED: 35,
    FollowUpOutcome.COMPENSATED: 25,
    FollowUpOutcome.REPLACED: 20,
    FollowUpOutcome.UNREACHABLE: 10,
    FollowUpOutcome.NO_ACTION: 10,
}
_OUTCOME_NOTES = {
    FollowUpOutcome.APOLOGISED: "Позвонил, извинился за задержку, клиент не в обиде.",
    FollowUpOutcome.COMPENSATED: "Отправили промокод на 500 ₽ в качестве компенсации.",
    FollowUpOutcome.REPLACED: "Оформили замену, курьер заберёт товар с браком.",
    FollowUpOutcome.UNREACHABLE: "Три звонка без ответа, написал на почту.",
    FollowUpOutcome.NO_ACTION: "Клиент уточнил, что претензий нет.",
}
_IN_PROGRESS_NOTES = [
    "Связался с клиентом, разбираемся со службой доставки.",
    "Запросил фото брака у клиента.",
    "Жду ответа склада по этому заказу.",
]


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


@dataclass
class _Context:
    rng: random.Random
    now: datetime
    config: FeedbackSettings
    zone: ZoneInfo
    manager_id: int | None
    totals: _Totals


class Command(BaseCommand):
    help = "Create believable survey invitations, answers, follow-ups and churn signals for the demo's orders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months", type=int, default=6, help="delivered orders of the last N months (0: every delivered order)"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable answers")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any survey answer exists")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["months"] < 0:
            raise CommandError("--months must be ≥ 0")
        if options["if_empty"] and Response.objects.exists():
            self.stdout.write("Survey answers exist already: the feedback demo data is left as it is.")
            return
        started = time.monotonic()
        now = timezone.now()
        since = now - timedelta(days=30.44 * options["months"]) if options["months"] else None
        context = _Context(
            rng=random.Random(options["seed"]),
            now=now,
            config=FeedbackSettings.load(),
            zone=ZoneInfo(ShopSettings.load().time_zone),
            manager_id=User.objects.filter(username=DEMO_MANAGER, is_active=True).values_list("pk", flat=True).first(),
            totals=_Totals(),
        )
        last_id = 0
        while True:
            customer_ids = list(
                Customer.objects.filter(pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:CUSTOMERS_PER_BATCH]
            )
            if not customer_ids:
                break
            last_id = customer_ids[-1]
            with transaction.atomic():
                _seed_batch(context, customer_ids, since)
        totals = context.totals
        answered = totals.responses
        nps = round(100 * (totals.promoters - totals.detractors) / answered) if answered else 0
        skips = ", ".join(f"{count:,} {reason}" for reason, count in sorted(totals.skips.items())) or "none"
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {totals.invitations:,} survey invitations ({totals.states[InvitationState.SENT]:,} unanswered, "
                f"{totals.states[InvitationState.ANSWERED]:,} answered, {totals.states[InvitationState.DUE]:,} due, "
                f"{totals.states[InvitationState.FAILED]:,} failed), skips: {skips}; {answered:,} answers (NPS {nps}), "
                f"{sum(totals.follow_ups.values()):,} follow-ups ({totals.follow_ups[FollowUpState.OPEN]:,} open, "
                f"{totals.follow_ups[FollowUpState.IN_PROGRESS]:,} in progress, "
                f"{totals.follow_ups[FollowUpState.RESOLVED]:,} resolved), {totals.signals:,} churn signals "
                f"in {time.monotonic() - started:.1f} s."
            )
        )


def _seed_batch(context: _Context, customer_ids: list[int], since: datetime | None) -> None:
    """Schedule, send and answer the surveys of one batch of customers (the caller holds the transaction)."""
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
    rows = list(orders.order_by("customer_id", "delivered", "pk").values_list("pk", "customer_id", "delivered"))
    if not rows:
        return
    batch_customers = sorted({customer_id for _, customer_id, _ in rows})
    # The live rules' reads: consent and addresses (locking the customers as the scheduler does), unsubscribes, and
    # the last survey of each customer, which the frequency cap counts from.
    recipients = _recipients(batch_customers)
    unsubscribed = set(
        Unsubscribe.objects.filter(customer_id__in=batch_customers).values_list("customer_id", flat=True)
    )
    last_asked: dict[int, datetime] = dict(
        Invitation.objects.filter(customer_id__in=batch_customers)
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
    answers = _answers(context, invitations)
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
    _follow_up(context, responses)


def _invitation(
    context: _Context, order_id: int, customer_id: int, delivered: datetime, channel: str, address: str
) -> Invitation:
    """One invitation as the scheduler writes it at delivery, then as the sender leaves it if its hour has come."""
    config, rng, now = context.config, context.rng, context.now
    due_at = invitation_due_at(delivered_at=delivered, config=config, zone=context.zone)
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
        invitation.error = f"550 5.1.1 Mailbox unavailable (after {MAX_ATTEMPTS} attempts)"
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


def _answers(context: _Context, invitations: list[Invitation]) -> list[tuple[Invitation, Response]]:
    """Answers for about a third of the sent invitations (those answered take the answered state, as
    ``response_submit`` leaves them); the reminder is marked sent when its hour came before the answer."""
    rng, now = context.rng, context.now
    answers: list[tuple[Invitation, Response]] = []
    for invitation in invitations:
        if invitation.sent_at is None:
            continue
        answered_at = _answer_moment(rng, invitation) if rng.random() < ANSWER_RATE else None
        if answered_at is not None and answered_at > now:
            answered_at = None
        reminder = invitation.reminder_due_at
        if reminder is not None and reminder <= (answered_at or now):
            invitation.reminder_sent_at = min(reminder + timedelta(seconds=rng.uniform(5, 180)), now)
        if answered_at is None:
            continue
        invitation.state = InvitationState.ANSWERED
        answers.append((invitation, _response(rng, invitation, answered_at)))
    return answers


def _answer_moment(rng: random.Random, invitation: Invitation) -> datetime:
    assert invitation.sent_at is not None
    if invitation.reminder_due_at is not None and rng.random() < 0.25:
        # The reminder brings in a late quarter of the answers, within a day of it.
        return invitation.reminder_due_at + timedelta(minutes=rng.uniform(10, 24 * 60))
    return invitation.sent_at + timedelta(minutes=min(rng.expovariate(1 / 240), 48 * 60) + 2)


def _response(rng: random.Random, invitation: Invitation, answered_at: datetime) -> Response:
    name, _share, recommend, product, service = rng.choices(_GROUPS, weights=[group[1] for group in _GROUPS])[0]
    comment = rng.choice(_COMMENTS[name]) if rng.random() < _COMMENT_RATE[name] else ""
    return Response(
        invitation=invitation,
        customer_id=invitation.customer_id,
        product_score=rng.choice(product),
        service_score=rng.choice(service),
        recommend_score=rng.choices(list(recommend), weights=list(recommend.values()))[0],
        comment=comment,
        created_at=answered_at,
    )


def _follow_up(context: _Context, responses: list[Response]) -> None:
    """A follow-up for every unhappy answer, in the state a manager would have left it by now (old ones mostly
    resolved, recent ones open), and the signals ``response_submit`` and ``follow_up_update`` leave behind."""
    rng, now = context.rng, context.now
    follow_ups: list[FollowUp] = []
    signals: list[ChurnSignal] = []
    for response in responses:
        detail = _answer_detail(response)
        for condition, kind, weight in (
            (response.is_detractor, ChurnSignal.Kind.DETRACTOR, DETRACTOR_WEIGHT),
            (response.is_low_satisfaction, ChurnSignal.Kind.LOW_SATISFACTION, LOW_SATISFACTION_WEIGHT),
        ):
            if condition:
                signals.append(
                    ChurnSignal(
                        customer_id=response.customer_id,
                        kind=kind,
                        source=response_source(response),
                        detail=detail[:200],
                        weight=weight,
                        raised_at=response.created_at,
                    )
                )
        if response.is_unhappy:
            follow_ups.append(_follow_up_row(context, response))
    FollowUp.objects.bulk_create(follow_ups, batch_size=1000)
    comments: list[FollowUpComment] = []
    for follow_up in follow_ups:
        signals.append(
            ChurnSignal(
                customer_id=follow_up.customer_id,
                kind=ChurnSignal.Kind.COMPLAINT,
                source=follow_up_source(follow_up),
                detail=_answer_detail(follow_up.response)[:200],
                weight=COMPLAINT_WEIGHT,
                raised_at=follow_up.created_at,
                # Resolving a follow-up clears its complaint (follow_up_update → churn_signal_clear).
                cleared_at=follow_up.resolved_at,
            )
        )
        note = _note(rng, follow_up, now)
        if note is not None:
            comments.append(note)
        context.totals.follow_ups[follow_up.state] += 1
    FollowUpComment.objects.bulk_create(comments, batch_size=1000)
    ChurnSignal.objects.bulk_create(signals, batch_size=1000, ignore_conflicts=True)
    context.totals.signals += len(signals)


def _follow_up_row(context: _Context, response: Response) -> FollowUp:
    rng, now = context.rng, context.now
    age = now - response.created_at
    if age > timedelta(days=14):
        weights = (5, 10, 85)
    elif age > timedelta(days=3):
        weights = (20, 30, 50)
    else:
        weights = (70, 25, 5)
    state = rng.choices([FollowUpState.OPEN, FollowUpState.IN_PROGRESS, FollowUpState.RESOLVED], weights=weights)[0]
    follow_up = FollowUp(
        response=response,
        customer_id=response.customer_id,
        order_id=response.invitation.order_id,
        state=state,
        due_at=response.created_at + FOLLOW_UP_DUE,
        created_at=response.created_at,
    )
    if state != FollowUpState.OPEN or rng.random() < 0.3:
        follow_up.assignee_id = context.manager_id
    if state == FollowUpState.RESOLVED:
        follow_up.outcome = rng.choices(list(_OUTCOMES), weights=list(_OUTCOMES.values()))[0]
        follow_up.resolved_at = min(response.created_at + timedelta(hours=rng.uniform(2, 5 * 24)), now)
    return follow_up


def _note(rng: random.Random, follow_up: FollowUp, now: datetime) -> FollowUpComment | None:
    if follow_up.state == FollowUpState.RESOLVED and follow_up.resolved_at is not None:
        return FollowUpComment(
            follow_up=follow_up,
            author_id=follow_up.assignee_id,
            text=_OUTCOME_NOTES[FollowUpOutcome(follow_up.outcome)],
            created_at=follow_up.resolved_at,
        )
    if follow_up.state == FollowUpState.IN_PROGRESS:
        return FollowUpComment(
            follow_up=follow_up,
            author_id=follow_up.assignee_id,
            text=rng.choice(_IN_PROGRESS_NOTES),
            created_at=min(follow_up.created_at + timedelta(hours=rng.uniform(1, 24)), now),
        )
    return None
