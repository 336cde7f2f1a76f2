"""RF segments and tiers over time, and who moved between segments since the month before."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from analytics.models import SegmentFlow, SegmentMonth
from scoring.models import Segment, Tier

MAX_MONTHS = 24
# Segments of customers who have drifted away, and those of customers who buy: a move from the first to the second
# is a customer who came back.
ASLEEP = frozenset({Segment.ABOUT_TO_SLEEP, Segment.AT_RISK, Segment.CANT_LOSE, Segment.HIBERNATING, Segment.LOST})
AWAKE = frozenset({Segment.CHAMPIONS, Segment.LOYAL, Segment.POTENTIAL_LOYALISTS, Segment.PROMISING})


@dataclass
class OverTime:
    months: list[date]
    # (value, label, customers per month)
    by_segment: list[tuple[str, str, list[int]]]
    by_tier: list[tuple[str, str, list[int]]]


def segments_over_time(*, limit: int = MAX_MONTHS) -> OverTime:
    rows = SegmentMonth.objects.values("month", "segment", "tier").annotate(customers=Sum("customers")).order_by()
    segments: dict[tuple[date, str], int] = defaultdict(int)
    tiers: dict[tuple[date, str], int] = defaultdict(int)
    months: set[date] = set()
    for row in rows:
        months.add(row["month"])
        segments[(row["month"], row["segment"])] += row["customers"]
        tiers[(row["month"], row["tier"])] += row["customers"]
    shown = sorted(months)[-limit:]
    return OverTime(
        months=shown,
        by_segment=[
            (value, str(label), [segments.get((month, value), 0) for month in shown])
            for value, label in Segment.choices
        ],
        by_tier=[
            (value, str(label), [tiers.get((month, value), 0) for month in shown]) for value, label in Tier.choices
        ],
    )


@dataclass
class Flows:
    month: date | None
    months: list[date]
    # customers[from][to]; "" is "not scored the month before".
    matrix: dict[str, dict[str, int]]
    became_at_risk: int
    came_back: int


def flow_months() -> list[date]:
    return sorted(SegmentFlow.objects.values_list("month", flat=True).distinct(), reverse=True)


def segment_flows(*, month: date | None = None) -> Flows:
    """The flows into ``month`` (the latest month by default) from the month before."""
    months = flow_months()
    chosen = month if month in months else (months[0] if months else None)
    matrix: dict[str, dict[str, int]] = defaultdict(dict)
    became_at_risk = came_back = 0
    for flow in SegmentFlow.objects.filter(month=chosen) if chosen is not None else []:
        matrix[flow.from_segment][flow.to_segment] = flow.customers
        if flow.to_segment == Segment.AT_RISK and flow.from_segment not in {"", Segment.AT_RISK}:
            became_at_risk += flow.customers
        if flow.from_segment in ASLEEP and flow.to_segment in AWAKE:
            came_back += flow.customers
    return Flows(month=chosen, months=months, matrix=dict(matrix), became_at_risk=became_at_risk, came_back=came_back)


def segment_labels() -> dict[str, str]:
    """Every RF segment's label by value, in the map's order; "" is a customer not scored the month before."""
    return {value: str(label) for value, label in Segment.choices}
