"""The feedback app's part of the card: open complaints near the top, and the survey answers and complaints of the
timeline. Registered from ``FeedbackConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from customers.contrib import CardPanel, TimelineEntry, TimelineSource
from feedback.selectors import follow_ups_for_customer, open_complaints_for_customers, responses_for_customer

if TYPE_CHECKING:
    from customers.models import Customer


def _complaints(customer: Customer, user: Any) -> dict[str, Any]:
    """Open complaints, shown near the top: whoever opens the card should see an unhappy customer first."""
    return {
        "complaints": open_complaints_for_customers([customer.pk]).get(customer.pk, []),
        "now": timezone.now(),
    }


def _response_entries(customer: Customer, limit: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            kind="survey_answer", at=answer.created_at, template="feedback/_timeline_answer.html", object=answer
        )
        for answer in responses_for_customer(customer.pk)[:limit]
    ]


def _follow_up_entries(customer: Customer, limit: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            kind="follow_up", at=follow_up.created_at, template="feedback/_timeline_follow_up.html", object=follow_up
        )
        for follow_up in follow_ups_for_customer(customer.pk)[:limit]
    ]


CARD_PANELS = (CardPanel("complaints", "feedback/card_complaints.html", "main", 30, _complaints),)

TIMELINE = (
    TimelineSource("survey_answers", 40, _response_entries),
    TimelineSource("follow_ups", 50, _follow_up_entries),
)
