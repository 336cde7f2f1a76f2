"""Reads of the analytics app: the report pages' figures from the monthly aggregates."""

from analytics.models import Refresh


def last_refresh() -> Refresh | None:
    return Refresh.objects.filter(state=Refresh.State.SUCCEEDED).first()
