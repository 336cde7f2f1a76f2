"""The rules as the engine reads them: the active rows of today, each turned into an engine ``Rule`` once."""

from datetime import date
from decimal import Decimal

from django.db.models import Q

from loyalty.engine.evaluate import Conditions, Rule
from loyalty.engine.params import parse_params
from loyalty.models import LoyaltyRule


def active_rules(today: date) -> list[LoyaltyRule]:
    """Switched on and inside their date window (one query on the ``is_active, kind`` index)."""
    return list(
        LoyaltyRule.objects.filter(is_active=True)
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .order_by("pk")
    )


def engine_rule(rule: LoyaltyRule) -> Rule:
    return Rule(
        id=rule.pk,
        kind=rule.kind,
        params=parse_params(rule.kind, rule.params),
        conditions=Conditions(
            segments=frozenset(rule.segments or ()),
            tiers=frozenset(rule.tiers or ()),
            channels=frozenset(rule.channels or ()),
            churn_min=rule.churn_min,
            churn_max=rule.churn_max,
            order_kind=rule.order_kind,
            min_order=rule.min_order,
            starts_on=rule.starts_on,
            ends_on=rule.ends_on,
        ),
        stacking=rule.stacking,
        max_total_percent=rule.max_total_percent,
        control_share=Decimal(rule.control_share),
        budget_left=rule.budget_left,
    )
