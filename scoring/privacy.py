"""Scoring's part of a person's data export: their score, its monthly history and the churn signals raised against
them. Scores are not erased: figures computed from the orders, with nothing that names the person. Registered from
``ScoringConfig.ready``."""

from __future__ import annotations

from typing import Any

from customers.contrib import ExportPart
from customers.models import Customer
from scoring.models import ChurnSignal, CustomerScore, ScoreSnapshot

# The score is profiling: the person may see what was concluded about them and why.
SCORE_FIELDS = (
    "importance",
    "tier",
    "segment",
    "r_score",
    "f_score",
    "m_score",
    "transactions",
    "first_purchase",
    "last_purchase",
    "total_value",
    "p_alive",
    "expected_365",
    "predicted_clv",
    "churn_risk",
    "updated_at",
)


def _score(customer: Customer) -> dict[str, Any] | None:
    score = CustomerScore.objects.filter(customer=customer).first()
    if score is None:
        return None
    return {
        **{name: getattr(score, name) for name in SCORE_FIELDS},
        "churn_reasons": score.churn_reason_lines,
        "history": [
            {
                "month": s.month,
                "importance": s.importance,
                "tier": s.tier,
                "segment": s.segment,
                "churn_risk": s.churn_risk,
                "predicted_clv": s.predicted_clv,
            }
            for s in ScoreSnapshot.objects.filter(customer=customer).order_by("month")
        ],
        "churn_signals": [
            {
                "kind": c.kind,
                "detail": c.detail,
                "weight": c.weight,
                "raised_at": c.raised_at,
                "cleared_at": c.cleared_at,
            }
            for c in ChurnSignal.objects.filter(customer=customer).order_by("raised_at", "id")
        ],
    }


EXPORT_PARTS = (ExportPart("score", 200, _score),)
