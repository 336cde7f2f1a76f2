"""What a rule has done so far, for its page: what it issued, what was redeemed, what it cost and what is left of
its budget, and how its eligible customers split into the treated and the control group.

Nothing records who was held out: the control group is a stable hash of (rule, customer) that the engine checks at
every evaluation (``loyalty.engine.evaluate.in_control_group``). :func:`rule_groups` therefore recomputes the split
for the customers the rule finds eligible now, in one query on the score table, with the same hash written in SQL.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from loyalty.engine.params import CumulativeParams, WinBackParams, parse_params
from loyalty.models import (
    Coupon,
    EntryKind,
    LedgerEntry,
    LoyaltyRule,
    PromoCode,
    Purpose,
    RedemptionOffer,
    RedemptionState,
)
from loyalty.preview import control_group_sql
from scoring.models import CustomerScore

ZERO = Decimal("0.00")
MONTHS = 12


@dataclass(frozen=True)
class Groups:
    """Customers the rule finds eligible now, split by the control-group hash."""

    eligible: int
    control: int

    @property
    def treated(self) -> int:
        return self.eligible - self.control


@dataclass
class Results:
    credit_issued: Decimal = ZERO
    credit_spent: Decimal = ZERO
    credit_expired: Decimal = ZERO
    credit_reversed: Decimal = ZERO
    credit_open: Decimal = ZERO
    coupons_issued: int = 0
    coupons_used: int = 0
    promo_codes: int = 0
    promo_uses: int = 0
    redemptions: int = 0
    discount_redeemed: Decimal = ZERO
    cost: Decimal = ZERO
    budget_left: Decimal | None = None
    chart: dict[str, list[Any]] = field(default_factory=dict)


def _money_sum(expression: Any, **filters: Any) -> Any:
    return Coalesce(Sum(expression, **filters), Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=2))


def _credit(rule_id: int, results: Results) -> None:
    """Two queries. A lot of this rule (an accrual, or its copy on a merge survivor) is used up by spending,
    expiry, reversal or a merge; what is not undone by an expiry, a reversal or a merge's move was spent."""
    lots = LedgerEntry.objects.filter(rule_id=rule_id, amount__gt=0).aggregate(
        issued=_money_sum("amount", filter=Q(kind=EntryKind.ACCRUAL)),
        consumed=_money_sum(F("amount") - F("remaining")),
        open=_money_sum("remaining"),
    )
    undone = LedgerEntry.objects.filter(source_entry__rule_id=rule_id, source_entry__amount__gt=0).aggregate(
        expired=_money_sum(-F("amount"), filter=Q(kind=EntryKind.EXPIRY)),
        reversed=_money_sum(-F("amount"), filter=Q(kind=EntryKind.REVERSAL)),
        moved=_money_sum(-F("amount"), filter=Q(kind=EntryKind.ADJUSTMENT, purpose=Purpose.MERGE, amount__lt=0)),
    )
    results.credit_issued = lots["issued"]
    results.credit_open = lots["open"]
    results.credit_expired = undone["expired"]
    results.credit_reversed = undone["reversed"]
    results.credit_spent = lots["consumed"] - undone["expired"] - undone["reversed"] - undone["moved"]


def _codes(rule_id: int, results: Results) -> None:
    """Two queries: the rule's coupons and its promo codes."""
    coupons = Coupon.objects.filter(rule_id=rule_id).aggregate(
        issued=Count("pk"), used=Count("pk", filter=Q(used_at__isnull=False))
    )
    promo = PromoCode.objects.filter(batch__rule_id=rule_id).aggregate(
        codes=Count("pk"), uses=Coalesce(Sum("uses"), Value(0))
    )
    results.coupons_issued, results.coupons_used = coupons["issued"], coupons["used"]
    results.promo_codes, results.promo_uses = promo["codes"], promo["uses"]


def _offers(rule_id: int) -> QuerySet[RedemptionOffer]:
    """The rule's parts of applied redemptions. A coupon's offer names no rule (its rule set the terms when it was
    issued and took no budget for it): it is this rule's through the coupon the redemption used (one at most)."""
    by_coupon = Q(rule__isnull=True, kind="coupon", redemption__coupons__rule_id=rule_id)
    return RedemptionOffer.objects.filter(Q(rule_id=rule_id) | by_coupon, redemption__state=RedemptionState.APPLIED)


def _month_starts(today: date) -> list[date]:
    first = today.replace(day=1)
    months = [first]
    for _ in range(MONTHS - 1):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return months[::-1]


def _by_month(queryset: QuerySet[Any], moment: str, amount: Any) -> dict[date, Decimal]:
    rows = queryset.annotate(month=TruncMonth(moment)).values("month").annotate(total=_money_sum(amount))
    return {_as_date(row["month"]): row["total"] for row in rows}


def _as_date(value: date | datetime) -> date:
    return timezone.localdate(value) if isinstance(value, datetime) else value


def _chart(rule_id: int, now: datetime) -> dict[str, list[Any]]:
    """Two queries: credit issued and checkout discounts, by month over the last twelve months."""
    months = _month_starts(timezone.localdate(now))
    since = datetime.combine(months[0], datetime.min.time(), tzinfo=timezone.get_current_timezone())
    credit = _by_month(
        LedgerEntry.objects.filter(rule_id=rule_id, kind=EntryKind.ACCRUAL, created_at__gte=since),
        "created_at",
        "amount",
    )
    discounts = _by_month(
        _offers(rule_id).filter(redemption__created_at__gte=since), "redemption__created_at", "amount"
    )
    return {
        "labels": [month.strftime("%Y-%m") for month in months],
        "credit": [str(credit.get(month, ZERO)) for month in months],
        "discounts": [str(discounts.get(month, ZERO)) for month in months],
    }


def rule_results(rule: LoyaltyRule, *, now: datetime | None = None) -> Results:
    """Seven queries, each an aggregate over the rule's own rows (indexed by rule). The cost is the rule's spent
    budget (discounts redeemed, credit issued) plus the discounts its coupons gave, which no budget counts."""
    results = Results(cost=rule.budget_spent, budget_left=rule.budget_left)
    _credit(rule.pk, results)
    _codes(rule.pk, results)
    offers = _offers(rule.pk).aggregate(
        redemptions=Count("redemption_id", distinct=True),
        discount=_money_sum("amount"),
        by_coupon=_money_sum("amount", filter=Q(rule__isnull=True)),
    )
    results.redemptions, results.discount_redeemed = offers["redemptions"], offers["discount"]
    results.cost = rule.budget_spent + offers["by_coupon"]
    results.chart = _chart(rule.pk, now or timezone.now())
    return results


def eligible_scores(rule: LoyaltyRule) -> QuerySet[CustomerScore]:
    """The scored customers the rule's conditions and its kind's own threshold admit now (the first cumulative
    tier, the win-back risk or days threshold). Conditions that need a cart (first or repeat order, minimum order,
    the date window) are decided at checkout and do not narrow this set."""
    scores = CustomerScore.objects.filter(customer__merged_into__isnull=True)
    if rule.segments:
        scores = scores.filter(segment__in=rule.segments)
    if rule.tiers:
        scores = scores.filter(tier__in=rule.tiers)
    if rule.channels:
        scores = scores.filter(customer__channel__in=rule.channels)
    if rule.churn_min is not None:
        scores = scores.filter(churn_risk__gte=rule.churn_min)
    if rule.churn_max is not None:
        scores = scores.filter(churn_risk__lte=rule.churn_max)
    params = parse_params(rule.kind, rule.params)
    if isinstance(params, CumulativeParams) and params.tiers:
        first = params.tiers[0][0]
        by_basis = {"transactions__gte": first} if params.basis == "orders" else {"total_value__gte": first}
        scores = scores.filter(**by_basis)
    elif isinstance(params, WinBackParams):
        by_risk = Q(churn_risk__gte=float(params.risk_threshold)) if params.risk_threshold is not None else Q(pk=None)
        by_days = Q(recency_days__gte=params.days_threshold) if params.days_threshold is not None else Q(pk=None)
        scores = scores.filter(by_risk | by_days)
    return scores


def _in_control_sql(rule_id: int, share: Decimal) -> RawSQL:
    """The engine's control-group hash for the score rows, written once in :func:`loyalty.preview.control_group_sql`."""
    sql, params = control_group_sql(rule_id, share, f"{CustomerScore._meta.db_table}.customer_id")
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611


def rule_groups(rule: LoyaltyRule) -> Groups:
    """Eligible, control and treated now: one aggregate query (the hash in SQL, so a million scores never leave the
    database)."""
    share = Decimal(rule.control_share)
    scores = eligible_scores(rule)
    if share <= 0:
        return Groups(eligible=scores.count(), control=0)
    counts = scores.annotate(in_control=_in_control_sql(rule.pk, share)).aggregate(
        eligible=Count("pk"), control=Count("pk", filter=Q(in_control=True))
    )
    return Groups(eligible=counts["eligible"], control=counts["control"])
