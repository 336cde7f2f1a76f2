"""The owner's morning figure of value at stake, as the last refresh computed it."""

from analytics.models import AtRiskValue


def at_risk_value() -> AtRiskValue | None:
    return AtRiskValue.objects.first()
