"""Reads of the campaigns for their pages, the customer card, the operator's console and the analytics report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from customers.models import CustomerPhone
from loyalty.campaigns.models import (
    CallState,
    CallTask,
    Campaign,
    CampaignRecipient,
    Group,
    Preset,
    RecipientStatus,
)
from loyalty.models import Coupon, RuleKind
from orders.models import Order, OrderStatus
from shop.models import ShopSettings
from shop.permissions import user_can
from shop.roles import Capability

CENT = Decimal("0.01")
# The statuses shown as columns of the results, in the order a message lives through them.
RESULT_STATUSES = (
    RecipientStatus.QUEUED, RecipientStatus.SENT, RecipientStatus.FAILED, RecipientStatus.UNKNOWN,
    RecipientStatus.CANCELLED, RecipientStatus.CALL, RecipientStatus.CALLED, RecipientStatus.NO_CHANNEL,
    RecipientStatus.CAPPED, RecipientStatus.OVER_BUDGET,
)  # fmt: skip


def _reader(user: Any) -> None:
    if not (user_can(user, Capability.VIEW_RULES) or user_can(user, Capability.CONFIGURE)):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied


def campaigns_for_user(user: Any) -> list[Campaign]:
    _reader(user)
    return list(Campaign.objects.select_related("rule").order_by("name", "pk"))


def campaign_for_user(user: Any, pk: int) -> Campaign:
    """The one scoped accessor of a campaign by id: readers of the rules see campaigns."""
    _reader(user)
    campaign = Campaign.objects.select_related("rule").filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


def win_back_campaigns() -> list[Campaign]:
    """The win-back campaigns running now (the preset, or any campaign offering a win-back rule), by name."""
    win_back = Q(preset=Preset.WIN_BACK) | Q(rule__kind=RuleKind.WIN_BACK)
    return list(Campaign.objects.filter(win_back, is_active=True, stopped_reason="").order_by("name", "pk"))


def call_task_for_user(user: Any, pk: int) -> CallTask:
    if not user_can(user, Capability.LOOKUP):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    task = CallTask.objects.filter(pk=pk).first()
    if task is None:
        raise Http404
    return task


@dataclass
class GroupResult:
    """One group's figures. ``orders``/``revenue``/``margin``: delivered orders placed after entering."""

    customers: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    clicked: int = 0
    redeemed: int = 0
    offer_cost: Decimal = Decimal("0.00")
    buyers: int = 0
    orders: int = 0
    revenue: Decimal = Decimal("0.00")
    margin: Decimal = Decimal("0.00")

    def per_customer(self, value: Decimal | int) -> Decimal:
        if not self.customers:
            return Decimal("0.00")
        return (Decimal(value) / self.customers).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def buyer_rate(self) -> Decimal:
        """Percent of the group who bought after entering."""
        if not self.customers:
            return Decimal("0.0")
        return (Decimal(self.buyers * 100) / self.customers).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def margin_per_customer(self) -> Decimal:
        return self.per_customer(self.margin)


def campaign_results(campaign: Campaign) -> dict[str, GroupResult]:
    """Treated and control side by side: one aggregate over the campaign's recipients, each joined to its own
    delivered orders placed after it entered (the order index (customer, placed_at)), and its coupon."""
    margin = ShopSettings.load().gross_margin
    recipients, orders, coupons = CampaignRecipient._meta.db_table, Order._meta.db_table, Coupon._meta.db_table
    sql = f"""
        SELECT r."group", r.status, count(*), count(r.clicked_at), count(k.used_at),
               COALESCE(sum(r.offer_cost), 0), count(*) FILTER (WHERE o.n > 0), COALESCE(sum(o.n), 0),
               COALESCE(sum(o.total), 0)
        FROM {recipients} r
        LEFT JOIN {coupons} k ON k.id = r.coupon_id
        LEFT JOIN LATERAL (
            SELECT count(*) AS n, sum(x.total) AS total FROM {orders} x
            WHERE x.customer_id = r.customer_id AND x.placed_at >= r.entered_at AND x.status = %s
        ) o ON TRUE
        WHERE r.campaign_id = %s
        GROUP BY 1, 2
    """  # noqa: S608 -- table names come from the models, every value is a parameter
    results = {Group.TREATED.value: GroupResult(), Group.CONTROL.value: GroupResult()}
    with connection.cursor() as cursor:
        cursor.execute(sql, [OrderStatus.DELIVERED, campaign.pk])
        for group, status, count, clicked, redeemed, cost, buyers, n_orders, revenue in cursor.fetchall():
            result = results[group]
            result.customers += count
            result.statuses[status] = result.statuses.get(status, 0) + count
            result.clicked += clicked
            result.redeemed += redeemed
            if status != RecipientStatus.CANCELLED:
                result.offer_cost += Decimal(cost)
            result.buyers += buyers
            result.orders += n_orders
            result.revenue += Decimal(revenue)
    for result in results.values():
        result.margin = (result.revenue * margin).quantize(CENT, rounding=ROUND_HALF_UP)
    return results


def status_rows(results: dict[str, GroupResult]) -> list[tuple[str, str, int, int]]:
    """(status, label, treated, control) for every status either group has, in ``RESULT_STATUSES`` order, and
    the control group's own status (nothing sent) last."""
    treated, control = results[Group.TREATED], results[Group.CONTROL]
    rows = []
    for status in (*RESULT_STATUSES, RecipientStatus.NEW, RecipientStatus.CONTROL):
        counts = (treated.statuses.get(status, 0), control.statuses.get(status, 0))
        if any(counts):
            rows.append((str(status), str(RecipientStatus(status).label), *counts))
    return rows


def campaign_recipients(campaign_id: int, *, after: int | None = None, limit: int = 50) -> list[CampaignRecipient]:
    """The campaign's recipients newest first, by keyset (``after``: the last id shown)."""
    rows = CampaignRecipient.objects.filter(campaign_id=campaign_id).select_related("customer", "coupon")
    if after is not None:
        rows = rows.filter(pk__lt=after)
    return list(rows.order_by("-pk")[:limit])


def effect_groups(
    campaign_id: int, *, since: datetime, until: datetime
) -> QuerySet[CampaignRecipient, tuple[int, str, datetime]]:
    """For the programme-effect report: (customer, group, entered_at) of those who entered the campaign in
    [since, until), read from the index ``loyalty_recipient_effect`` alone."""
    return CampaignRecipient.objects.filter(
        campaign_id=campaign_id, entered_at__gte=since, entered_at__lt=until
    ).values_list("customer_id", "group", "entered_at")


def customer_campaigns(customer_id: int, *, limit: int = 10) -> list[CampaignRecipient]:
    """The campaigns that reached (or held out) this customer, newest first, with the offer and its coupon."""
    return list(
        CampaignRecipient.objects.filter(customer_id=customer_id)
        .select_related("campaign", "coupon")
        .order_by("-entered_at", "-pk")[:limit]
    )


def calls_due(*, today: date, limit: int = 50) -> list[CallTask]:
    """Open call tasks due today or earlier, oldest first (the partial index of open tasks)."""
    phone = CustomerPhone.objects.filter(customer_id=OuterRef("customer_id")).order_by("-is_primary", "id")
    return list(
        CallTask.objects.filter(state=CallState.OPEN, due_on__lte=today)
        .annotate(phone=Subquery(phone.values("number")[:1]))
        .select_related("customer", "recipient__campaign", "recipient__coupon")
        .order_by("due_on", "pk")[:limit]
    )
