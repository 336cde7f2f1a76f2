"""Acquisition channels: what each channel's customers brought and will bring, what they cost, and when they paid
it back. Read from the aggregates (a few thousand rows), never from the orders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Max, Sum
from django.utils import timezone

from analytics.models import AcquisitionCohort, CohortMonth, MarketingSpend
from analytics.selectors import cached_per_refresh
from customers.models import Channel

CENT = Decimal("0.01")


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _share(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def _per(amount: Decimal, customers: int) -> Decimal | None:
    return None if not customers else (amount / customers).quantize(CENT)


@dataclass
class ChannelRow:
    channel: str
    label: str
    customers: int = 0
    repeat_customers: int = 0
    scored_customers: int = 0
    active_customers: int = 0
    predicted_margin: Decimal = Decimal("0")
    realised_margin: Decimal = Decimal("0")
    spend: Decimal = Decimal("0")
    spend_customers: int = 0
    curve: list[Decimal] = field(default_factory=list)

    @property
    def repeat_rate(self) -> float | None:
        return _share(self.repeat_customers, self.customers)

    @property
    def active_share(self) -> float | None:
        return _share(self.active_customers, self.scored_customers)

    @property
    def realised_ltv(self) -> Decimal | None:
        """Margin to date per customer: delivered orders' totals × the shop's gross margin."""
        return _per(self.realised_margin, self.customers)

    @property
    def predicted_per_customer(self) -> Decimal | None:
        return _per(self.predicted_margin, self.scored_customers)

    @property
    def cac(self) -> Decimal | None:
        """Spend in the months with spend entered over the customers acquired in those months."""
        return _per(self.spend, self.spend_customers) if self.spend else None

    @property
    def payback_months(self) -> int | None:
        """Months after the month of the first order by which the cumulative margin per acquired customer reached
        the CAC (0: in the month of the first order); ``None`` when it has not yet."""
        if self.cac is None:
            return None
        for offset, margin in enumerate(self.curve):
            if margin >= self.cac:
                return offset
        return None


def _cohort_sizes() -> dict[tuple[str, date], int]:
    rows = AcquisitionCohort.objects.values("channel", "month").annotate(customers=Sum("customers")).order_by()
    return {(row["channel"], row["month"]): row["customers"] for row in rows}


def _cohort_revenue() -> dict[tuple[str, date], dict[int, Decimal]]:
    rows = CohortMonth.objects.values("channel", "cohort", "month_offset").annotate(revenue=Sum("revenue")).order_by()
    revenue: dict[tuple[str, date], dict[int, Decimal]] = defaultdict(dict)
    for row in rows:
        revenue[(row["channel"], row["cohort"])][row["month_offset"]] = row["revenue"]
    return revenue


def margin_curve(
    cohorts: dict[date, int], revenue: dict[date, dict[int, Decimal]], *, margin: Decimal, today: date
) -> list[Decimal]:
    """Cumulative margin per acquired customer by months since the first order. The point for month k counts only
    the cohorts at least k months old, so young cohorts do not drag the curve down with months they have not had."""
    if not cohorts:
        return []
    oldest = max(months_between(cohort, today) for cohort in cohorts)
    curve = []
    for offset in range(oldest + 1):
        old_enough = [cohort for cohort in cohorts if months_between(cohort, today) >= offset]
        customers = sum(cohorts[cohort] for cohort in old_enough)
        earned = sum(
            (amount for cohort in old_enough for month, amount in revenue.get(cohort, {}).items() if month <= offset),
            Decimal("0"),
        )
        curve.append((earned * margin / customers).quantize(CENT) if customers else Decimal("0"))
    return curve


def channel_rows(*, margin: Decimal, today: date | None = None) -> list[ChannelRow]:
    """One row per channel that acquired anyone or has spend, in the order of the channel choices; cached per
    refresh, margin, day and the spend's last change."""
    today = today or timezone.localdate()
    spend = MarketingSpend.objects.aggregate(changed=Max("updated_at"), lines=Count("pk"))
    return cached_per_refresh(
        "channels", lambda: _channel_rows(margin=margin, today=today), margin, today, spend["changed"], spend["lines"]
    )


def _channel_rows(*, margin: Decimal, today: date) -> list[ChannelRow]:
    rows = {value: ChannelRow(channel=value, label=str(label)) for value, label in Channel.choices}
    totals = AcquisitionCohort.objects.values("channel").annotate(
        customers=Sum("customers"),
        repeat=Sum("repeat_customers"),
        scored=Sum("scored_customers"),
        active=Sum("active_customers"),
        predicted=Sum("predicted_clv"),
    )
    for total in totals.order_by():
        row = rows.setdefault(total["channel"], ChannelRow(channel=total["channel"], label=total["channel"]))
        row.customers, row.repeat_customers = total["customers"], total["repeat"]
        row.scored_customers, row.active_customers = total["scored"], total["active"]
        row.predicted_margin = total["predicted"]
    sizes, revenue = _cohort_sizes(), _cohort_revenue()
    for (channel, _cohort), months in revenue.items():
        if channel in rows:
            rows[channel].realised_margin += sum(months.values(), Decimal("0")) * margin
    spend_months: dict[str, set[date]] = defaultdict(set)
    for spend in MarketingSpend.objects.all():
        rows[spend.channel].spend += spend.amount
        spend_months[spend.channel].add(spend.month)
    for channel, row in rows.items():
        row.realised_margin = row.realised_margin.quantize(CENT)
        with_spend = spend_months.get(channel)
        cohorts = {
            cohort: size
            for (other, cohort), size in sizes.items()
            if other == channel and (with_spend is None or cohort in with_spend)
        }
        row.spend_customers = sum(cohorts.values()) if with_spend else 0
        row.curve = margin_curve(
            cohorts,
            {cohort: revenue.get((channel, cohort), {}) for cohort in cohorts},
            margin=margin,
            today=today,
        )
    return [row for row in rows.values() if row.customers or row.spend]


@dataclass
class CampaignRow:
    channel: str
    label: str
    campaign: str
    customers: int
    repeat_rate: float | None
    active_share: float | None
    realised_ltv: Decimal | None
    predicted_per_customer: Decimal | None


def campaign_rows(*, margin: Decimal, limit: int = 200) -> list[CampaignRow]:
    """Per UTM campaign within its channel, the biggest first."""
    totals = (
        AcquisitionCohort.objects.values("channel", "campaign")
        .annotate(
            customers=Sum("customers"),
            repeat=Sum("repeat_customers"),
            scored=Sum("scored_customers"),
            active=Sum("active_customers"),
            predicted=Sum("predicted_clv"),
        )
        .order_by("-customers", "channel", "campaign")[:limit]
    )
    labels = dict(Channel.choices)
    revenue = {
        (row["channel"], row["campaign"]): row["revenue"]
        for row in CohortMonth.objects.values("channel", "campaign").annotate(revenue=Sum("revenue")).order_by()
    }
    return [
        CampaignRow(
            channel=row["channel"],
            label=str(labels.get(row["channel"], row["channel"])),
            campaign=row["campaign"],
            customers=row["customers"],
            repeat_rate=_share(row["repeat"], row["customers"]),
            active_share=_share(row["active"], row["scored"]),
            realised_ltv=_per(revenue.get((row["channel"], row["campaign"]), Decimal("0")) * margin, row["customers"]),
            predicted_per_customer=_per(row["predicted"], row["scored"]),
        )
        for row in totals
    ]


def acquired_by_month(*, months: int = 24) -> tuple[list[date], dict[str, list[int]]]:
    """Customers acquired per month (month of the first order) by channel, the last ``months`` months."""
    sizes = _cohort_sizes()
    all_months = sorted({month for _channel, month in sizes})[-months:]
    by_channel: dict[str, list[int]] = {}
    for channel in sorted({channel for channel, _month in sizes}):
        by_channel[channel] = [sizes.get((channel, month), 0) for month in all_months]
    return all_months, by_channel


def spend_rows() -> list[MarketingSpend]:
    return list(MarketingSpend.objects.select_related("entered_by").order_by("-month", "channel")[:500])


def channel_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Channel.choices}
