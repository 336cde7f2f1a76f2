"""The scores in the customer list: columns, filters and sorts that scoring adds (``Contribution.list``).

``customers`` sits below ``scoring`` and may not import it, so scoring describes its part of the list here and
registers it in ``customers.contrib`` from ``ScoringConfig.ready``. Every value is read from
``scoring_customerscore`` through the reverse one-to-one ``Customer.score``: one LEFT JOIN per page row, and for the
score sorts an index range scan on the score table (``score_importance`` on ``(importance, customer)``;
``score_churn_list`` and ``score_clv_list`` from migration 0004 for churn risk and predicted CLV).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from customers.contrib import ExportColumn, ListColumn, ListExtension, ListFilter, ListSort
from scoring.models import CustomerScore, ScoringSettings, Segment, Tier

CELLS_TEMPLATE = "scoring/list_cells.html"
# Every customer with a score has a delivered order, so a last order, and an importance.
SCORED = frozenset({"importance"})
# The score row's customer column: the second column of every score index the sorts read.
TIEBREAK = "score__customer_id"


def _annotations() -> dict[str, Any]:
    return {
        "score_importance": F("score__importance"),
        "score_tier": F("score__tier"),
        "score_segment": F("score__segment"),
        "score_churn": F("score__churn_risk"),
        "score_clv": F("score__predicted_clv"),
    }


def _without(column: str) -> Q:
    """Customers with no score, or a score without this figure (the model fell back to RF): an anti-join."""
    return ~Q(Exists(CustomerScore.objects.filter(customer=OuterRef("pk"), **{f"{column}__isnull": False})))


def _tier_condition(tier: str) -> Q:
    """The tier as the importance range the owner's thresholds give it.

    The same customers as ``tier = …``: every write sets the tier from these thresholds, and changing them re-tiers
    every score in the same transaction. As a range it is an index condition on ``(importance, customer)``: the
    Low tier sorted by importance by ``tier = 'low'`` walked past every higher score first, half the base (2.8 s on
    a million), and ``tier = 'vip' AND importance >= 95`` led the planner, which takes the two for independent, to
    sort the whole tier through the ``(tier, importance)`` index (0.3 s)."""
    low, high = ScoringSettings.load().thresholds.importance_range(Tier(tier).value)
    # Always one bound at least, so the condition needs a score: customers without one are in no tier.
    condition = Q(score__importance__gte=low if low is not None else 0)
    if high is not None:
        condition &= Q(score__importance__lt=high)
    return condition


def _tier_field() -> forms.Field:
    return forms.ChoiceField(label=_("Tier"), choices=[("", _("Any tier")), *Tier.choices], required=False)


def _segment_field() -> forms.Field:
    return forms.ChoiceField(label=_("Segment"), choices=[("", _("Any segment")), *Segment.choices], required=False)


def _churn_field() -> forms.Field:
    return forms.IntegerField(
        label=_("Churn risk from, %"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"placeholder": "50"}),
    )


def _at_risk_valuable_field() -> forms.Field:
    return forms.BooleanField(
        label=_("Valuable and at risk"),
        required=False,
        help_text=_("Realised value in the top 20% and churn risk of 50% or more"),
    )


def _percent(value: float | None) -> int | str:
    return "" if value is None else round(value * 100)


def _money_cell(value: Decimal | None, decimal_comma: bool) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}"
    return text.replace(".", ",") if decimal_comma else text


def _label(choices: type[Tier] | type[Segment], value: str | None) -> str:
    return str(choices(value).label) if value in choices.values else ""


SCORE_LIST = ListExtension(
    name="scoring",
    annotations=_annotations,
    sorts=(
        ListSort("importance", "score__importance", int, lambda: _without("importance"), TIEBREAK),
        ListSort("churn", "score__churn_risk", float, lambda: _without("churn_risk"), TIEBREAK),
        ListSort("clv", "score__predicted_clv", Decimal, lambda: _without("predicted_clv"), TIEBREAK),
    ),
    filters=(
        ListFilter(
            "tier",
            _tier_field,
            _tier_condition,
            implies_orders=True,
            implies_sorts=SCORED,
            default_sort="-importance",
        ),
        ListFilter(
            "segment",
            _segment_field,
            lambda segment: Q(score__segment=segment),
            implies_orders=True,
            implies_sorts=SCORED,
            default_sort="-importance",
        ),
        ListFilter(
            "churn_min",
            _churn_field,
            # Percent as the manager types it; stored as a share. A score without a fitted model has no churn
            # risk and is not "at risk from 50%".
            lambda percent: Q(score__churn_risk__gte=percent / 100),
            implies_orders=True,
            implies_sorts=SCORED | {"churn"},
            default_sort="-churn",
        ),
        ListFilter(
            "at_risk_valuable",
            _at_risk_valuable_field,
            # An unticked box never reaches here (the form leaves it out); read through its partial index (0013).
            lambda _ticked: Q(score__at_risk_valuable=True),
            implies_orders=True,
            implies_sorts=SCORED,
            default_sort="-importance",
        ),
    ),
    columns=(
        ListColumn("importance", _("Importance"), sort="importance", numeric=True),
        ListColumn("tier", _("Tier")),
        ListColumn("segment", _("Segment")),
        ListColumn("churn", _("Churn risk"), sort="churn", numeric=True),
        ListColumn("clv", _("Predicted CLV"), sort="clv", numeric=True),
    ),
    cells_template=CELLS_TEMPLATE,
    export_columns=(
        ExportColumn(_("Importance"), lambda row, comma: "" if row.score_importance is None else row.score_importance),
        ExportColumn(_("Tier"), lambda row, comma: _label(Tier, row.score_tier)),
        ExportColumn(_("Segment"), lambda row, comma: _label(Segment, row.score_segment)),
        ExportColumn(_("Churn risk, %"), lambda row, comma: _percent(row.score_churn)),
        ExportColumn(_("Predicted CLV"), lambda row, comma: _money_cell(row.score_clv, comma)),
    ),
    form_rows=(("tier", "segment", "churn_min", "at_risk_valuable"),),
)
