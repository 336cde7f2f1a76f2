"""What the demo's customers answered: about a third of the sent surveys answered (mostly promoters, about 12 %
detractors, with comments in their words), and for every unhappy answer a follow-up in the state a manager would have
left it by now, with the churn signals ``feedback.services.answers`` raises (same kinds, sources, details, weights)."""

import random
from collections import Counter
from datetime import datetime, timedelta

from feedback.models import (
    FollowUp,
    FollowUpComment,
    FollowUpOutcome,
    FollowUpState,
    Invitation,
    InvitationState,
    Response,
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
from scoring.models import ChurnSignal

# Share of sent surveys that get an answer: e-commerce post-delivery surveys see 25–40 %.
ANSWER_RATE = 0.35

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


def answers_draw(rng: random.Random, now: datetime, invitations: list[Invitation]) -> list[tuple[Invitation, Response]]:
    """Answers for about a third of the sent invitations (those answered take the answered state, as
    ``response_submit`` leaves them); the reminder is marked sent when its hour came before the answer."""
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


def follow_ups_write(
    rng: random.Random, now: datetime, manager_id: int | None, responses: list[Response]
) -> tuple[Counter[str], int]:
    """A follow-up for every unhappy answer, in the state a manager would have left it by now (old ones mostly
    resolved, recent ones open), and the signals ``response_submit`` and ``follow_up_update`` leave behind.
    Returns the follow-ups by state and the number of signals written."""
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
            follow_ups.append(_follow_up_row(rng, now, manager_id, response))
    FollowUp.objects.bulk_create(follow_ups, batch_size=1000)
    comments: list[FollowUpComment] = []
    for follow_up in follow_ups:
        assert follow_up.response is not None  # the seed's follow-ups all come from unhappy answers
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
    FollowUpComment.objects.bulk_create(comments, batch_size=1000)
    ChurnSignal.objects.bulk_create(signals, batch_size=1000, ignore_conflicts=True)
    return Counter(follow_up.state for follow_up in follow_ups), len(signals)


def _follow_up_row(rng: random.Random, now: datetime, manager_id: int | None, response: Response) -> FollowUp:
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
        follow_up.assignee_id = manager_id
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
