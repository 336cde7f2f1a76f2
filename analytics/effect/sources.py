"""The programmes whose effect is measured, each as a generic *exposure* set and a *cost* set.

A programme is anything that treats some customers and deliberately leaves a random control group out: a loyalty
rule with a control share, a retention campaign with its recipients. The effect computation
(``analytics.effect.aggregate``) knows nothing else about it; it reads

- exposures: SQL rows ``(customer_id, grp, since)`` — ``grp`` is ``'treated'`` or ``'control'``, ``since`` the moment
  the customer entered (a timestamp);
- costs: SQL rows ``(customer_id, at, discount, credit)`` — what the programme gave a customer at a moment: a price
  reduction at checkout (``discount``) or credit issued (``credit``).

Adding a kind of programme is one function returning its ``Programme`` list, appended to ``PROGRAMME_SOURCES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import DecimalField, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from analytics.models import ExposureGroup, ProgrammeExposure
from loyalty.campaigns.models import Campaign, CampaignRecipient, Group
from loyalty.models import Coupon, EntryKind, LedgerEntry, LoyaltyRule, RedemptionOffer, RedemptionState
from loyalty.preview import control_group_sql
from loyalty.results import eligible_scores

SQL = tuple[str, list[Any]]
ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))


@dataclass(frozen=True)
class Programme:
    key: str
    name: str
    url: str
    exposures: SQL
    costs: SQL


def _sql(rows: QuerySet[Any]) -> SQL:
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def rule_key(rule_id: int) -> str:
    return f"rule:{rule_id}"


def _rule_offers(rule_id: int) -> QuerySet[RedemptionOffer]:
    """The rule's parts of applied checkouts, as the rule's own results page counts them
    (``loyalty.results.rule_results``): its offers, and its coupons' offers, which name no rule."""
    by_coupon = Q(rule__isnull=True, kind="coupon", redemption__coupons__rule_id=rule_id)
    return RedemptionOffer.objects.filter(Q(rule_id=rule_id) | by_coupon, redemption__state=RedemptionState.APPLIED)


def rule_costs(rule_id: int) -> SQL:
    """Checkout discounts, and credit the rule issued less what was reversed (a returned order takes its credit
    back); expired credit still counts, since the shop stood behind it. Dated at the checkout and at the accrual."""
    discounts = _sql(
        _rule_offers(rule_id).values(
            buyer=F("redemption__customer_id"), at=F("redemption__created_at"), discount=F("amount"), credit=ZERO
        )
    )
    reversed_part = (
        LedgerEntry.objects.filter(source_entry=OuterRef("pk"), kind=EntryKind.REVERSAL)
        .values("source_entry")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    credit = _sql(
        LedgerEntry.objects.filter(rule_id=rule_id, kind=EntryKind.ACCRUAL, amount__gt=0).values(
            buyer=F("customer_id"),
            at=F("created_at"),
            discount=ZERO,
            credit=F("amount") + Coalesce(Subquery(reversed_part), ZERO),
        )
    )
    sql = f"SELECT * FROM ({discounts[0]}) discounts UNION ALL SELECT * FROM ({credit[0]}) credit"  # noqa: S608 (the ORM's SQL)
    return f"SELECT buyer AS customer_id, at, discount, credit FROM ({sql}) costs", [*discounts[1], *credit[1]]  # noqa: S608


def rule_exposures(rule_id: int) -> SQL:
    rows = ProgrammeExposure.objects.filter(programme=rule_key(rule_id)).values(
        "customer_id", grp=F("group"), since_at=F("since")
    )
    sql, params = _sql(rows)
    return f"SELECT customer_id, grp, since_at AS since FROM ({sql}) exposures", params  # noqa: S608 (the ORM's SQL)


def measured_rules() -> QuerySet[LoyaltyRule]:
    """Rules with a control group now, and rules that had one (their exposures stay measurable)."""
    recorded = ProgrammeExposure.objects.filter(programme__startswith="rule:").values("programme").distinct()
    keys = {row["programme"] for row in recorded}
    ids = [int(key.split(":", 1)[1]) for key in keys]
    return LoyaltyRule.objects.filter(Q(control_share__gt=0) | Q(pk__in=ids)).order_by("name", "pk")


def loyalty_programmes() -> list[Programme]:
    return [
        Programme(
            key=rule_key(rule.pk),
            name=rule.title,
            url=reverse("loyalty:rule", args=[rule.pk]),
            exposures=rule_exposures(rule.pk),
            costs=rule_costs(rule.pk),
        )
        for rule in measured_rules()
    ]


def campaign_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def campaign_exposures(campaign_id: int) -> SQL:
    """Each recipient once, in their group (the same on every occasion: the stable hash), since they first entered.
    Whoever the campaign selected counts, whatever happened to their message (no consent left, capped, over
    budget): the control group was drawn from the same selection. Read from the index ``loyalty_recipient_effect``."""
    rows = (
        CampaignRecipient.objects.filter(campaign_id=campaign_id)
        .values("customer_id", grp=F("group"))
        .annotate(since_at=Min("entered_at"))
        .values("customer_id", "grp", "since_at")
    )
    sql, params = _sql(rows)
    return f"SELECT customer_id, grp, since_at AS since FROM ({sql}) exposures", params  # noqa: S608 (the ORM's SQL)


def campaign_costs(campaign_id: int) -> SQL:
    """The discounts the campaign's personal coupons actually took off applied checkouts, dated at the checkout
    (a coupon's offer names no rule, as in :func:`rule_costs`). A coupon issued but never used costs nothing."""
    own_coupon = Coupon.objects.filter(
        redemption_id=OuterRef("redemption_id"), campaign_recipient__campaign_id=campaign_id
    )
    offers = RedemptionOffer.objects.filter(
        Exists(own_coupon), rule__isnull=True, kind="coupon", redemption__state=RedemptionState.APPLIED
    )
    sql, params = _sql(
        offers.values(buyer=F("redemption__customer_id"), at=F("redemption__created_at"), discount=F("amount"),
                      credit=ZERO)
    )  # fmt: skip
    return f"SELECT buyer AS customer_id, at, discount, credit FROM ({sql}) costs", params  # noqa: S608 (the ORM's SQL)


def campaign_programmes() -> list[Programme]:
    """Campaigns with a control group now, and campaigns that held one out (their recipients stay measurable)."""
    held_out = CampaignRecipient.objects.filter(campaign_id=OuterRef("pk"), group=Group.CONTROL)
    campaigns = Campaign.objects.filter(Q(control_share__gt=0) | Exists(held_out)).order_by("name", "pk")
    return [
        Programme(
            key=campaign_key(campaign.pk),
            name=campaign.title,
            url=reverse("loyalty:campaign", args=[campaign.pk]),
            exposures=campaign_exposures(campaign.pk),
            costs=campaign_costs(campaign.pk),
        )
        for campaign in campaigns
    ]


# One function per kind of programme.
PROGRAMME_SOURCES: list[Callable[[], list[Programme]]] = [loyalty_programmes, campaign_programmes]


def programmes() -> list[Programme]:
    return [programme for source in PROGRAMME_SOURCES for programme in source()]


# Newly recorded exposures of one rule after which the table's statistics are refreshed within the transaction.
RESTATE_AFTER = 10_000


def _rule_started(rule: LoyaltyRule) -> datetime:
    """When a rule first treated anyone: its creation, or its first credit or checkout if earlier (a programme
    replayed or imported with its history)."""
    moments = [rule.created_at]
    first_credit = LedgerEntry.objects.filter(rule_id=rule.pk).aggregate(first=Min("created_at"))["first"]
    first_offer = _rule_offers(rule.pk).aggregate(first=Min("redemption__created_at"))["first"]
    moments += [moment for moment in (first_credit, first_offer) if moment is not None]
    return min(moments)


def rule_exposures_record(rule: LoyaltyRule, *, now: datetime) -> int:
    """Record the customers the rule finds eligible now and who were not recorded before, each in the group the
    engine's hash puts them in. One INSERT … SELECT … ON CONFLICT DO NOTHING, so running twice adds nothing.

    The first recording of a rule dates its customers at the rule's start (they may have been eligible since); later
    ones date newcomers now. The first set therefore holds only those still eligible — a survivor bias the nightly
    recording removes from then on, and the page says which date the comparison starts from."""
    key = rule_key(rule.pk)
    first = not ProgrammeExposure.objects.filter(programme=key).exists()
    since = _rule_started(rule) if first else now
    eligible_sql, eligible_params = _sql(eligible_scores(rule).values("customer_id"))
    control_sql, control_params = control_group_sql(rule.pk, Decimal(rule.control_share), "eligible.customer_id")
    table = ProgrammeExposure._meta.db_table
    sql = (
        f'INSERT INTO {table} (programme, customer_id, "group", since) '  # noqa: S608 (table name and the ORM's SQL)
        f"SELECT %s, eligible.customer_id, CASE WHEN {control_sql} THEN %s ELSE %s END, %s "
        f"FROM ({eligible_sql}) eligible WHERE NOT EXISTS (SELECT 1 FROM {table} known "
        "WHERE known.programme = %s AND known.customer_id = eligible.customer_id) "
        "ON CONFLICT (programme, customer_id) DO NOTHING"
    )
    # The anti-join leaves the night's newcomers, so the hash and the insert run for them only; ON CONFLICT still
    # settles two refreshes at once.
    params = [key, *control_params, ExposureGroup.CONTROL, ExposureGroup.TREATED, since, *eligible_params, key]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def exposures_record(*, now: datetime | None = None) -> int:
    """Each active rule with a control group, on a day it runs: its newly eligible customers."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rules = LoyaltyRule.objects.filter(is_active=True, control_share__gt=0)
    rules = rules.filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today))
    rules = rules.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    recorded = 0
    for rule in rules:
        added = rule_exposures_record(rule, now=now)
        if added >= RESTATE_AFTER:
            # The rows are not yet committed, so the table's statistics still say what it held before: the next
            # rule's anti-join would take it for a handful of rows and scan all of it for every eligible customer.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {ProgrammeExposure._meta.db_table}")
        recorded += added
    return recorded
