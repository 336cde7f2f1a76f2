"""Domain events of the feedback app, sent after commit. ``detractor_answered(customer_id, response_id,
recommend_score)`` is the churn-risk signal for whoever reads it (the scoring engine, wired by the crm layer)."""

from django.dispatch import Signal

detractor_answered = Signal()
