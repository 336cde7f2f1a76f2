"""Monthly acquisition cohorts: who came back in each month after the first order, the margin they brought, and how
much of each month's revenue came from customers of earlier months."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from analytics.models import AcquisitionCohort, CohortMonth
from analytics.selectors import cached_per_refresh
from analytics.selectors.channels import CENT

MAX_COHORTS = 24


@dataclass
class CohortRow:
    month: date
    customers: int
    # Share of the cohort (%) who bought in month k after the first order (k = 0 is the month of the first order).
    retention: list[float]
    # Cumulative margin per customer by the end of month k.
    cumulative_margin: list[Decimal]


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def cohort_rows(*, margin: Decimal, today: date, limit: int = MAX_COHORTS) -> list[CohortRow]:
    """The last ``limit`` cohorts, oldest first, each with as many months as it has lived (this month included);
    cached per refresh, margin and day."""
    return cached_per_refresh(
        "cohorts", lambda: _cohort_rows(margin=margin, today=today, limit=limit), margin, today, limit
    )


def _cohort_rows(*, margin: Decimal, today: date, limit: int) -> list[CohortRow]:
    sizes = {
        row["month"]: row["customers"]
        for row in AcquisitionCohort.objects.values("month").annotate(customers=Sum("customers")).order_by()
    }
    months = sorted(sizes)[-limit:]
    if not months:
        return []
    cells: dict[date, dict[int, tuple[int, Decimal]]] = defaultdict(dict)
    rows = (
        CohortMonth.objects.filter(cohort__gte=months[0])
        .values("cohort", "month_offset")
        .annotate(buyers=Sum("buyers"), revenue=Sum("revenue"))
        .order_by()
    )
    for row in rows:
        cells[row["cohort"]][row["month_offset"]] = (row["buyers"], row["revenue"])
    result = []
    for month in months:
        size = sizes[month]
        age = (today.year - month.year) * 12 + today.month - month.month
        retention, cumulative, earned = [], [], Decimal("0")
        for offset in range(age + 1):
            buyers, revenue = cells[month].get(offset, (0, Decimal("0")))
            earned += revenue
            retention.append(round(100 * buyers / size, 1) if size else 0.0)
            cumulative.append((earned * margin / size).quantize(CENT) if size else Decimal("0"))
        result.append(CohortRow(month=month, customers=size, retention=retention, cumulative_margin=cumulative))
    return result


@dataclass
class RepeatShareRow:
    month: date
    revenue: Decimal
    repeat_revenue: Decimal

    @property
    def share(self) -> float | None:
        return None if not self.revenue else round(float(100 * self.repeat_revenue / self.revenue), 1)


def repeat_revenue_share(*, limit: int = MAX_COHORTS) -> list[RepeatShareRow]:
    """Each calendar month's delivered revenue, and the part from customers whose first order was in an earlier
    month (returning customers), the last ``limit`` months; cached per refresh."""
    return cached_per_refresh("repeat_share", lambda: _repeat_revenue_share(limit=limit), limit)


def _repeat_revenue_share(*, limit: int) -> list[RepeatShareRow]:
    by_month: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal("0"), Decimal("0")])
    rows = CohortMonth.objects.values("cohort", "month_offset").annotate(revenue=Sum("revenue")).order_by()
    for row in rows:
        totals = by_month[_add_months(row["cohort"], row["month_offset"])]
        totals[0] += row["revenue"]
        if row["month_offset"] > 0:
            totals[1] += row["revenue"]
    return [
        RepeatShareRow(month=month, revenue=totals[0], repeat_revenue=totals[1])
        for month, totals in sorted(by_month.items())[-limit:]
    ]
