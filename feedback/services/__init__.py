"""Writes of the feedback app: scheduling invitations (``scheduling``), their messages through messaging's outbox
(``sending``),
answers, unsubscribes and follow-ups with their churn signals (``answers``)."""

from feedback.services.answers import (
    COMPLAINT_WEIGHT,
    DETRACTOR_WEIGHT,
    LOW_SATISFACTION_WEIGHT,
    AlreadyAnswered,
    customer_unsubscribe,
    follow_up_open,
    follow_up_open_for_warning,
    follow_up_source,
    follow_up_update,
    response_source,
    response_submit,
    survey_records_move,
)
from feedback.services.scheduling import invitation_due_at, invitations_schedule
from feedback.services.sending import (
    INVITATION_KIND,
    REMINDER_KIND,
    invitation_send,
    invitations_settle,
    reminders_send,
    survey_url,
    unsubscribe_url,
)

__all__ = [
    "COMPLAINT_WEIGHT",
    "DETRACTOR_WEIGHT",
    "INVITATION_KIND",
    "LOW_SATISFACTION_WEIGHT",
    "REMINDER_KIND",
    "AlreadyAnswered",
    "customer_unsubscribe",
    "follow_up_open",
    "follow_up_open_for_warning",
    "follow_up_source",
    "follow_up_update",
    "invitation_due_at",
    "invitation_send",
    "invitations_schedule",
    "invitations_settle",
    "reminders_send",
    "response_source",
    "response_submit",
    "survey_records_move",
    "survey_url",
    "unsubscribe_url",
]
