"""Reads of the feedback app for its pages, the customer card, the screen-pop and reports."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import JSONObject, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Channel
from feedback.models import FollowUp, FollowUpState, Invitation, InvitationState, Response
from scoring.models import Segment


def open_complaints_for_customers(ids: Iterable[int]) -> dict[int, list[FollowUp]]:
    """Open follow-ups of unhappy answers by customer id: the open complaints on a card and in the operator's
    screen-pop (a follow-up staff opened without an answer is no complaint)."""
    return open_follow_ups_for_customers(ids, complaints_only=True)


def open_follow_ups_for_customers(ids: Iterable[int], *, complaints_only: bool = False) -> dict[int, list[FollowUp]]:
    """Unresolved follow-ups by customer id, the soonest due first."""
    result: dict[int, list[FollowUp]] = defaultdict(list)
    rows = FollowUp.objects.filter(customer_id__in=list(ids))
    if complaints_only:
        rows = rows.filter(response__isnull=False)
    rows = rows.exclude(state=FollowUpState.RESOLVED).select_related("response", "order").order_by("due_at")
    for row in rows:
        result[row.customer_id].append(row)
    return dict(result)


@dataclass(frozen=True)
class OpenComplaint:
    """An open follow-up of an unhappy answer, as the screen-pop shows it."""

    id: int
    order: str  # the order's external id
    state: str
    due_at: datetime
    recommend_score: int
    comment: str


def open_complaints_column() -> ArraySubquery:
    """:func:`open_complaints_for_customers` for one customer as a column of a read over customers
    (``OuterRef("pk")``), the soonest due first; :func:`complaints_from_column` reads it back."""
    return ArraySubquery(
        FollowUp.objects.filter(customer_id=OuterRef("pk"), response__isnull=False, order__isnull=False)
        .exclude(state=FollowUpState.RESOLVED)
        .order_by("due_at")
        .values(
            complaint=JSONObject(
                id="id",
                order="order__external_id",
                state="state",
                due_at="due_at",
                recommend_score="response__recommend_score",
                comment="response__comment",
            )
        )
    )


def complaints_from_column(values: list[dict[str, Any]]) -> list[OpenComplaint]:
    return [OpenComplaint(**{**value, "due_at": datetime.fromisoformat(value["due_at"])}) for value in values]


def responses_for_customer(customer_id: int) -> QuerySet[Response]:
    """Every answer of a customer, newest first, for the card's timeline."""
    return Response.objects.filter(customer_id=customer_id).select_related("invitation__order").order_by("-created_at")


def follow_ups_for_customer(customer_id: int) -> QuerySet[FollowUp]:
    """Every complaint of a customer with the answer and order it came from, newest first, for the card's timeline
    (served by the ``(customer, state)`` index)."""
    return (
        FollowUp.objects.filter(customer_id=customer_id)
        .select_related("response", "order", "assignee")
        .order_by("-created_at", "-id")
    )


# The list's default: every follow-up still to handle, open or in progress.
UNRESOLVED = "unresolved"


def follow_up_counts() -> dict[str, int]:
    """Unresolved follow-ups and how many of them are overdue: two counts on the ``(state, due_at)`` index."""
    unresolved = FollowUp.objects.exclude(state=FollowUpState.RESOLVED)
    return {"open": unresolved.count(), "overdue": unresolved.filter(due_at__lt=timezone.now()).count()}


def follow_ups(*, state: str = "", assignee_id: int | None = None) -> QuerySet[FollowUp]:
    """The follow-ups work queue: those still to handle first, the longest overdue on top, then the resolved ones,
    the latest first. ``state`` is a FollowUpState, ``UNRESOLVED`` or ``""`` for all."""
    resolved = Q(state=FollowUpState.RESOLVED)
    rows = FollowUp.objects.select_related("customer", "order", "response", "assignee").order_by(
        Case(When(resolved, then=Value(1)), default=Value(0)),
        Case(When(~resolved, then=F("due_at"))).asc(nulls_last=True),
        F("resolved_at").desc(nulls_last=True),
        "-id",
    )
    if state == UNRESOLVED:
        rows = rows.exclude(resolved)
    elif state:
        rows = rows.filter(state=state)
    if assignee_id:
        rows = rows.filter(assignee_id=assignee_id)
    return rows


def nps(promoters: int, detractors: int, total: int) -> float | None:
    return round(100 * (promoters - detractors) / total, 1) if total else None


_SCORES = {
    "answers": Count("id"),
    "promoters": Count("id", filter=Q(recommend_score__gte=9)),
    "detractors": Count("id", filter=Q(recommend_score__lte=6)),
    "satisfied": Count("id", filter=Q(service_score__gte=4)),
}


def _row(values: Mapping[str, Any]) -> dict[str, Any]:
    total = values["answers"]
    return {
        **values,
        "nps": nps(values["promoters"], values["detractors"], total),
        "csat": round(100 * values["satisfied"] / total, 1) if total else None,
    }


def nps_by_month(*, since: datetime) -> list[dict[str, Any]]:
    """NPS per calendar month of the answers from ``since`` on (answers only, on the ``created_at`` index): the
    owner's dashboard trend. Each row has ``bucket`` (the month), ``answers`` and ``nps``."""
    rows = (
        Response.objects.filter(created_at__gte=since)
        .annotate(bucket=TruncMonth("created_at"))
        .values("bucket")
        .annotate(**_SCORES)
        .order_by("bucket")
    )
    return [_row(values) for values in rows]


def scores_by_period(*, period: str, since: datetime | None = None) -> list[dict[str, Any]]:
    """NPS and CSAT (share of service answers 4–5) per week or month, with the surveys sent in the period and the
    share of those that were answered (the response rate belongs to the period the survey went out in)."""
    trunc = TruncWeek if period == "week" else TruncMonth
    answers = Response.objects.all()
    sent = Invitation.objects.filter(sent_at__isnull=False)
    if since:
        answers, sent = answers.filter(created_at__gte=since), sent.filter(sent_at__gte=since)
    by_bucket = {
        values["bucket"]: _row(values)
        for values in answers.annotate(bucket=trunc("created_at")).values("bucket").annotate(**_SCORES)
    }
    sent_rows = (
        sent.annotate(bucket=trunc("sent_at"))
        .values("bucket")
        .annotate(sent=Count("id"), answered=Count("id", filter=Q(state=InvitationState.ANSWERED)))
    )
    empty = _row(dict.fromkeys(_SCORES, 0))
    for values in sent_rows:
        row = by_bucket.setdefault(values["bucket"], {**empty, "bucket": values["bucket"]})
        row["sent"], row["answered"] = values["sent"], values["answered"]
    for row in by_bucket.values():
        row.setdefault("sent", 0)
        row.setdefault("answered", 0)
        row["response_rate"] = _percent(row["answered"], row["sent"])
    return [by_bucket[bucket] for bucket in sorted(by_bucket)]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def scores_by_channel(*, since: datetime | None = None) -> list[dict[str, Any]]:
    """NPS and CSAT by the answering customer's acquisition channel: one join, one GROUP BY."""
    answers = Response.objects.filter(created_at__gte=since) if since else Response.objects.all()
    rows = answers.values("customer__channel").annotate(**_SCORES).order_by("customer__channel")
    labels = dict(Channel.choices)
    return [
        _row({"channel": channel, "label": labels.get(channel, channel), **values})
        for values in rows
        for channel in [values["customer__channel"]]
    ]


def scores_by_segment(*, since: datetime | None = None) -> list[dict[str, Any]]:
    """NPS and CSAT by the scoring engine's RF segment of the customer who answered: one join to the score table,
    one GROUP BY. Customers not scored yet (before the first run) form a row with an empty segment. Rows follow
    the segment map's order, Champions to Lost."""
    answers = Response.objects.filter(created_at__gte=since) if since else Response.objects.all()
    rows = answers.values("customer__score__segment").annotate(**_SCORES)
    result = []
    for values in rows:
        data: dict[str, Any] = dict(values)
        segment = data["customer__score__segment"] or ""
        label = dict(Segment.choices).get(segment, segment) if segment else _("Not scored yet")
        result.append(_row({"segment": segment, "label": label, **{key: data[key] for key in _SCORES}}))
    order = {value: position for position, value in enumerate(Segment.values)}
    return sorted(result, key=lambda row: order.get(row["segment"], len(order)))


def response_rate(*, since: datetime | None = None) -> dict[str, Any]:
    """Surveys sent and answered since ``since``, and the share answered; one aggregate."""
    sent = Invitation.objects.filter(sent_at__gte=since) if since else Invitation.objects.filter(sent_at__isnull=False)
    totals = sent.aggregate(sent=Count("id"), answered=Count("id", filter=Q(state=InvitationState.ANSWERED)))
    return {**totals, "rate": _percent(totals["answered"], totals["sent"])}


def latest_comments(limit: int = 20) -> QuerySet[Response]:
    """The newest answers with a comment (the index on created_at walks back until it has ``limit``)."""
    return Response.objects.exclude(comment="").select_related("customer").order_by("-created_at")[:limit]


def invitation_waiting_longest() -> Invitation | None:
    """The invitation still due whose hour is earliest (the next one the sender would take)."""
    return Invitation.objects.filter(state=InvitationState.DUE).order_by("due_at", "pk").first()
