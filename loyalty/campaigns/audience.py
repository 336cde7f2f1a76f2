"""A campaign's audience as one set-based query over customers and their scores.

:func:`audience_sql` is the one definition of who qualifies: the editor's preview counts it, the daily run inserts
it into the recipients table in one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (so only whoever newly qualifies
enters), and the control group is the stable hash of the campaign and the customer computed in the same query
(``loyalty.preview.control_group_sql``, the one SQL form of it).

Who qualifies: not erased, not merged away, marketing consent on a channel the campaign may send by (the control
group is drawn from the same people, so the comparison is fair), and every condition the owner set (RF segment,
tier, acquisition channel, tags, churn-risk range, days since the last order, first or repeat customer). A win-back
campaign with thresholds names the occasion by the highest threshold crossed, so a customer enters again, with a
bigger offer, when their risk crosses the next one. A campaign run after each delivered order has one occasion per
order delivered since its last run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection

from customers.models import Customer, Tag
from loyalty.campaigns.models import Campaign, CampaignRecipient, RecipientStatus, Schedule, SendChannel
from loyalty.models import RuleKind
from loyalty.preview import control_group_sql, offer_value_sql
from orders.models import Order, OrderStatus
from scoring.models import CustomerScore, Tier

CENT = Decimal("0.01")
# Only offers that issue something cost the campaign; a tier announcement gives what the rule gives anyway.
COSTED_KINDS = (RuleKind.WIN_BACK, RuleKind.NEXT_ORDER_COUPON)


def _consent_sql(send_channel: str) -> str:
    if send_channel == SendChannel.EMAIL:
        return "c.email_consent"
    if send_channel == SendChannel.SMS:
        return "c.sms_consent"
    return "(c.email_consent OR c.sms_consent)"


def _conditions(campaign: Campaign, now: datetime) -> tuple[list[str], list[Any]]:
    tags_table = Customer.tags.through._meta.db_table
    where = ["c.erased_at IS NULL", "c.merged_into_id IS NULL", _consent_sql(campaign.send_channel)]
    params: list[Any] = []
    for column, values in (
        ("s.segment", campaign.segments),
        ("s.tier", campaign.tiers),
        ("c.channel", campaign.channels),
    ):
        if values:
            where.append(f"{column} = ANY(%s)")
            params.append(sorted(values))
    if campaign.tags:
        where.append(
            f"EXISTS (SELECT 1 FROM {tags_table} ct JOIN {Tag._meta.db_table} t ON t.id = ct.tag_id "  # noqa: S608
            "WHERE ct.customer_id = c.id AND t.name = ANY(%s))"
        )
        params.append(sorted(campaign.tags))
    for sql, value in (("s.churn_risk >= %s", campaign.churn_min), ("s.churn_risk <= %s", campaign.churn_max)):
        if value is not None:
            where.append(sql)
            params.append(value)
    if campaign.days_min is not None:
        where.append("c.last_order_at <= %s")
        params.append(now - timedelta(days=campaign.days_min))
    if campaign.days_max is not None:
        where.append("c.last_order_at >= %s")
        params.append(now - timedelta(days=campaign.days_max))
    if campaign.order_kind == "first":
        where.append("c.orders_count = 1")
    elif campaign.order_kind == "repeat":
        where.append("c.orders_count > 1")
    return where, params


def _occasion(campaign: Campaign) -> tuple[str, list[Any], list[str], list[Any]]:
    """(occasion expression, its params, extra joins' conditions, their params)."""
    if campaign.schedule == Schedule.AFTER_DELIVERY:
        return "'order:' || o.id", [], [], []
    thresholds = sorted(float(value) for value in campaign.risk_thresholds or [])
    if not thresholds:
        return "''", [], [], []
    whens = " ".join("WHEN s.churn_risk >= %s THEN %s" for _ in thresholds)
    params: list[Any] = []
    for value in reversed(thresholds):
        params += [value, f"risk:{value:.2f}"]
    return f"(CASE {whens} END)", params, ["s.churn_risk >= %s"], [thresholds[0]]


def audience_sql(campaign: Campaign, *, now: datetime, since: datetime | None = None) -> tuple[str, list[Any]]:
    """``SELECT customer_id, occasion, grp, tier, cost`` of everyone the campaign reaches now (``since``: the
    after-delivery watermark). ``cost`` is the offer's estimated value for one order (0 when it issues nothing)."""
    where, where_params = _conditions(campaign, now)
    occasion, occasion_params, extra, extra_params = _occasion(campaign)
    control, control_params = control_group_sql(campaign.control_key, campaign.control_share, "c.id")
    cost, cost_params = "0", list[Any]()
    if campaign.rule is not None and campaign.rule.kind in COSTED_KINDS:
        cost, cost_params = offer_value_sql(campaign.rule)
    source = f"{Customer._meta.db_table} c LEFT JOIN {CustomerScore._meta.db_table} s ON s.customer_id = c.id"
    join_params: list[Any] = []
    if campaign.schedule == Schedule.AFTER_DELIVERY:
        source = (
            f"{Order._meta.db_table} o JOIN {Customer._meta.db_table} c ON c.id = o.customer_id "
            f"LEFT JOIN {CustomerScore._meta.db_table} s ON s.customer_id = c.id"
        )
        extra = ["o.status = %s", "o.status_changed_at > %s", *extra]
        join_params = [OrderStatus.DELIVERED, since or now - timedelta(days=1)]
    sql = f"""
        SELECT c.id AS customer_id, {occasion} AS occasion,
               CASE WHEN {control} THEN 'control' ELSE 'treated' END AS grp,
               COALESCE(s.tier, '') AS tier, COALESCE(({cost})::float8, 0) AS cost
        FROM {source}
        WHERE {" AND ".join([*where, *extra])}
    """  # noqa: S608 -- table and column names come from the models, every value is a parameter
    return sql, [*occasion_params, *control_params, *cost_params, *where_params, *join_params, *extra_params]


@dataclass
class AudienceToday:
    """Who the campaign would reach if it ran now: new entrants only (those already in it are not counted)."""

    total: int = 0
    control: int = 0
    calls: int = 0
    by_tier: dict[str, int] = field(default_factory=dict)
    estimated_cost: Decimal = Decimal("0.00")

    @property
    def treated(self) -> int:
        return self.total - self.control

    def tier_rows(self) -> list[tuple[str, int]]:
        return [(str(Tier(key).label), self.by_tier.get(key, 0)) for key in Tier.values]


def audience_today(campaign: Campaign, *, now: datetime) -> AudienceToday:
    """One aggregate over the audience query minus those already entered on the same occasion."""
    sql, params = audience_sql(campaign, now=now, since=campaign.last_run_at)
    recipients = CampaignRecipient._meta.db_table
    new_only = (
        f"NOT EXISTS (SELECT 1 FROM {recipients} r WHERE r.campaign_id = %s "  # noqa: S608
        "AND r.customer_id = a.customer_id AND r.occasion = a.occasion)"
    )
    aggregate = f"""
        SELECT a.tier, a.grp, count(*), sum(a.cost) FROM ({sql}) a
        WHERE a.occasion IS NOT NULL AND {new_only if campaign.pk else "TRUE"}
        GROUP BY 1, 2
    """  # noqa: S608
    result = AudienceToday()
    cost = 0.0
    with connection.cursor() as cursor:
        cursor.execute(aggregate, [*params, *([campaign.pk] if campaign.pk else [])])
        for tier, group, count, total_cost in cursor.fetchall():
            result.total += count
            result.by_tier[tier] = result.by_tier.get(tier, 0) + count
            if group == "control":
                result.control += count
            elif tier in (campaign.call_tiers or []):
                result.calls += count
                cost += total_cost or 0.0
            else:
                cost += total_cost or 0.0
    result.estimated_cost = Decimal(repr(cost)).quantize(CENT, rounding=ROUND_HALF_UP)
    return result


def audience_enter(campaign: Campaign, *, now: datetime) -> int:
    """Insert whoever newly qualifies as recipients (treated ones "selected", to be processed in batches; control
    ones recorded as control, never to receive anything); returns how many entered. Idempotent through the unique
    (campaign, customer, occasion)."""
    sql, params = audience_sql(campaign, now=now, since=campaign.last_run_at)
    table = CampaignRecipient._meta.db_table
    insert = f"""
        INSERT INTO {table} (campaign_id, customer_id, occasion, "group", status, channel, language, offer_kind,
                             entered_at, updated_at, clicks)
        SELECT %s, a.customer_id, a.occasion, a.grp,
               CASE WHEN a.grp = 'control' THEN %s ELSE %s END, '', '', '', %s, %s, 0
        FROM ({sql}) a
        WHERE a.occasion IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM {table} r WHERE r.campaign_id = %s AND r.customer_id = a.customer_id AND r.occasion = a.occasion
        )
        ON CONFLICT (campaign_id, customer_id, occasion) DO NOTHING
    """  # noqa: S608
    # The anti-join leaves out, set-based, everyone already in (on a steady day nearly the whole audience); the
    # ON CONFLICT only guards against a concurrent run.
    with connection.cursor() as cursor:
        cursor.execute(
            insert, [campaign.pk, RecipientStatus.CONTROL, RecipientStatus.NEW, now, now, *params, campaign.pk]
        )
        return cursor.rowcount


def audience_add(campaign: Campaign, *, customer_id: int, occasion: str, now: datetime) -> int:
    """Put one customer into the campaign by hand (the early-warning list's one click), on ``occasion``, in the
    group the stable hash gives them, as a "selected" treated recipient or a control one, like the daily entry.
    Only a customer the campaign may write to (not erased or merged, marketing consent on one of its channels)
    enters; the audience's own conditions are the manager's call. Returns 1 if they entered, else 0."""
    control, control_params = control_group_sql(campaign.control_key, campaign.control_share, "c.id")
    table = CampaignRecipient._meta.db_table
    where = ["c.id = %s", "c.erased_at IS NULL", "c.merged_into_id IS NULL", _consent_sql(campaign.send_channel)]
    insert = f"""
        INSERT INTO {table} (campaign_id, customer_id, occasion, "group", status, channel, language, offer_kind,
                             entered_at, updated_at, clicks)
        SELECT %s, c.id, %s, CASE WHEN {control} THEN 'control' ELSE 'treated' END,
               CASE WHEN {control} THEN %s ELSE %s END, '', '', '', %s, %s, 0
        FROM {Customer._meta.db_table} c WHERE {" AND ".join(where)}
        ON CONFLICT (campaign_id, customer_id, occasion) DO NOTHING
    """  # noqa: S608 -- table and column names come from the models, every value is a parameter
    params = [campaign.pk, occasion, *control_params, *control_params, RecipientStatus.CONTROL, RecipientStatus.NEW]
    with connection.cursor() as cursor:
        cursor.execute(insert, [*params, now, now, customer_id])
        return cursor.rowcount
