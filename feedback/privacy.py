"""The feedback app's part of a person's data requests: their surveys, answers and complaints in the export, and
their erasure. Registered from ``FeedbackConfig.ready``; ``crm.privacy`` runs them."""

from __future__ import annotations

from typing import Any

from customers.contrib import Eraser, Erasure, ExportPart
from customers.models import Customer
from feedback.models import FollowUp, FollowUpComment, Invitation, InvitationState, Response
from messaging.reasons import MessageReason, reason_parse, reason_store, reason_text


def _surveys(customer: Customer) -> list[dict[str, Any]]:
    rows = (
        Invitation.objects.filter(customer=customer)
        .select_related("order", "response", "response__follow_up")
        .prefetch_related("response__follow_up__comments")
        .order_by("created_at", "id")
    )
    surveys = []
    for invitation in rows:
        response = getattr(invitation, "response", None)
        follow_up = getattr(response, "follow_up", None) if response is not None else None
        surveys.append(
            {
                "order": invitation.order.external_id,
                "channel": invitation.channel,
                "address": invitation.address,
                "state": invitation.state,
                "sent_at": invitation.sent_at,
                # Why it did not leave (or left in doubt): the stored code and its words in the reader's language.
                "reason": reason_parse(invitation.error)[0] or None,
                "reason_text": reason_text(invitation.error) or None,
                "answer": None
                if response is None
                else {
                    "answered_at": response.created_at,
                    "product_score": response.product_score,
                    "service_score": response.service_score,
                    "recommend_score": response.recommend_score,
                    "comment": response.comment,
                },
                "follow_up": None
                if follow_up is None
                else {
                    "state": follow_up.state,
                    "outcome": follow_up.outcome,
                    "resolved_at": follow_up.resolved_at,
                    "comments": [{"at": c.created_at, "text": c.text} for c in follow_up.comments.all()],
                },
            }
        )
    return surveys


def _erase_surveys(erasure: Erasure) -> dict[str, int]:
    # The survey's address is a contact; the answer's comment and the staff's comments on the complaint are free
    # text about the person. The scores given (0–10, 1–5) stay: they carry nothing that names anyone and feed NPS.
    # A survey still waiting is dropped: it has nowhere to go now.
    ids = erasure.customer_ids
    Invitation.objects.filter(customer_id__in=ids, state=InvitationState.DUE).update(
        state=InvitationState.FAILED, error=reason_store(MessageReason.ERASED)
    )
    addresses = Invitation.objects.filter(customer_id__in=ids).exclude(address="").update(address="")
    comments = Response.objects.filter(customer_id__in=ids).exclude(comment="").update(comment="")
    staff, _ = FollowUpComment.objects.filter(follow_up__customer_id__in=ids).delete()
    return {"survey_addresses": addresses, "survey_comments": comments, "follow_up_comments": staff}


def _staff_follow_ups(customer: Customer) -> list[dict[str, Any]]:
    """Follow-ups staff opened without a survey answer (from the early-warning list), with their reason."""
    rows = (
        FollowUp.objects.filter(customer=customer, response__isnull=True)
        .prefetch_related("comments")
        .order_by("created_at", "id")
    )
    return [
        {
            "opened_at": row.created_at,
            "reason": row.reason,
            "reason_text": row.reason_text,
            "state": row.state,
            "outcome": row.outcome,
            "resolved_at": row.resolved_at,
            "comments": [{"at": c.created_at, "text": c.text} for c in row.comments.all()],
        }
        for row in rows
    ]


EXPORT_PARTS = (ExportPart("surveys", 300, _surveys), ExportPart("follow_ups", 301, _staff_follow_ups))
ERASERS = (Eraser("surveys", 300, _erase_surveys),)
