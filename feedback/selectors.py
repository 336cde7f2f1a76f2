"""Reads of the feedback app for its pages, the customer card, the screen-pop and reports."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek

from feedback.models import FollowUp, FollowUpState, Invitation, InvitationState, Response


def open_complaints_for_customers(ids: Iterable[int]) -> dict[int, list[FollowUp]]:
    """Open follow-ups by customer id: the open complaints on a card and in the operator's screen-pop."""
    result: dict[int, list[FollowUp]] = defaultdict(list)
    rows = (
        FollowUp.objects.filter(customer_id__in=list(ids))
        .exclude(state=FollowUpState.RESOLVED)
        .select_related("response", "order")
        .order_by("due_at")
    )
    for row in rows:
        result[row.customer_id].append(row)
    return dict(result)


def responses_for_customer(customer_id: int) -> QuerySet[Response]:
    """Every answer of a customer, newest first, for the card's timeline."""
    return Response.objects.filter(customer_id=customer_id).select_related("invitation__order").order_by("-created_at")


def follow_ups(*, state: str = "", assignee_id: int | None = None) -> QuerySet[FollowUp]:
    rows = FollowUp.objects.select_related("customer", "order", "response", "assignee").order_by("due_at")
    if state:
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


def scores_by_period(*, period: str, since: datetime | None = None) -> list[dict[str, Any]]:
    """NPS and CSAT (share of service answers 4–5) per week or month, with the response rate of sent surveys."""
    trunc = TruncWeek if period == "week" else TruncMonth
    answers = Response.objects.all()
    sent = Invitation.objects.filter(sent_at__isnull=False)
    if since:
        answers, sent = answers.filter(created_at__gte=since), sent.filter(sent_at__gte=since)
    rows = answers.annotate(bucket=trunc("created_at")).values("bucket").annotate(**_SCORES).order_by("bucket")
    sent_by = dict(
        sent.annotate(bucket=trunc("sent_at")).values("bucket").annotate(n=Count("id")).values_list("bucket", "n")
    )
    result = []
    for values in rows:
        row = _row(values)  # type: ignore[arg-type]
        sent_count = sent_by.get(row["bucket"], 0)
        row["sent"] = sent_count
        row["response_rate"] = round(100 * row["answers"] / sent_count, 1) if sent_count else None
        result.append(row)
    return result


def scores_by_channel() -> list[dict[str, Any]]:
    rows = Response.objects.values("customer__channel").annotate(**_SCORES).order_by("customer__channel")
    return [_row(values) for values in rows]


def scores_by_segment(segments: Mapping[int, str]) -> list[dict[str, Any]]:
    """NPS and CSAT by RF segment, given customer_id → segment from the scoring engine (composed by crm)."""
    buckets: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_SCORES, 0))
    for customer_id, product, service, recommend in Response.objects.values_list(
        "customer_id", "product_score", "service_score", "recommend_score"
    ):
        del product
        bucket = buckets[segments.get(customer_id, "")]
        bucket["answers"] += 1
        bucket["promoters"] += recommend >= 9
        bucket["detractors"] += recommend <= 6
        bucket["satisfied"] += service >= 4
    return [_row({"segment": name, **values}) for name, values in sorted(buckets.items())]


def response_rate() -> float | None:
    sent = Invitation.objects.filter(sent_at__isnull=False).count()
    answered = Invitation.objects.filter(state=InvitationState.ANSWERED).count()
    return round(100 * answered / sent, 1) if sent else None


def latest_comments(limit: int = 20) -> QuerySet[Response]:
    return Response.objects.exclude(comment="").select_related("customer").order_by("-created_at")[:limit]
