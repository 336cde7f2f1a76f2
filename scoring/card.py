"""Scoring's part of the customer card: the score panel with its monthly history chart, and why a customer has no
score yet, read through ``scoring.selectors``. Registered from ``ScoringConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from customers.contrib import CardPanel
from orders.selectors import customer_has_delivered_orders
from scoring.models import CustomerScore
from scoring.selectors import score_for_customer, score_snapshots_for_customer

if TYPE_CHECKING:
    from customers.models import Customer

# Months of score history the card's chart shows: two years, enough to see a season come round twice.
HISTORY_MONTHS = 24


def score_history(customer: Customer, score: CustomerScore | None) -> dict[str, Any]:
    """The chart's series, oldest first: importance and churn risk (percent) of each monthly snapshot, then the
    current score as the last point. Churn risk is ``None`` where the model was not fitted (a gap in the line)."""
    snapshots = score_snapshots_for_customer(customer.pk, limit=HISTORY_MONTHS)
    points: list[tuple[str, int, float | None]] = [
        (f"{snapshot.month:%Y-%m}", snapshot.importance, snapshot.churn_risk) for snapshot in snapshots
    ]
    if score is not None:
        points.append((_("now"), score.importance, score.churn_risk))
    return {
        "names": {"importance": _("Importance"), "churn": _("Churn risk, %")},
        "labels": [label for label, _importance, _churn in points],
        "importance": [importance for _label, importance, _churn in points],
        "churn": [None if churn is None else round(churn * 100, 1) for _label, _importance, churn in points],
    }


def _unscored_reason(customer: Customer) -> str:
    """Why a customer has no score, in words the manager can act on."""
    if not customer_has_delivered_orders(customer.pk):
        return _(
            "No score yet: the score is computed from delivered orders, and this customer has none "
            "(or all of them were returned)."
        )
    return _("Not scored yet: the score appears after the next scoring run.")


def score_panel(customer: Customer, user: Any) -> dict[str, Any]:
    score = score_for_customer(customer.pk)
    history = score_history(customer, score)
    return {
        "score": score,
        # A line needs two points: one snapshot and the current score, or two months.
        "history": history if len(history["labels"]) >= 2 else None,
        "unscored_reason": "" if score is not None else _unscored_reason(customer),
    }


CARD_PANELS = (CardPanel("score", "scoring/card_score.html", "main", 40, score_panel),)
