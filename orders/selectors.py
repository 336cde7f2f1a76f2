"""Reads of the orders app: the order list (keyset on placed_at, id), one order with its history, a customer's
orders for the card, and the month's figures for the dashboard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, JSONObject
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.models import Customer
from orders.models import Order, OrderItem, OrderStatus, OrderStatusChange
from shop.paging import KeysetPage, keyset_page
from shop.permissions import user_can
from shop.roles import Capability

CURSOR_SALT = "orders.list.cursor"


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    source: str = ""
    placed_from: date | None = None
    placed_to: date | None = None
    customer_id: int | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def order_queryset(filters: OrderFilters) -> QuerySet[Order]:
    queryset = Order.objects.all()
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    if filters.placed_from is not None:
        queryset = queryset.filter(placed_at__gte=_day_start(filters.placed_from))
    if filters.placed_to is not None:
        queryset = queryset.filter(placed_at__lt=_day_start(filters.placed_to + timedelta(days=1)))
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    return queryset


def _moment(text: str) -> datetime:
    moment = parse_datetime(text)
    if moment is None:
        raise ValueError(text)
    return moment


def order_list(filters: OrderFilters, cursor: str | None = None, limit: int = 50) -> KeysetPage[Order]:
    """Newest first, paged by keyset on ``(placed_at, id)`` (the ``order_placed`` index): page 10 000 costs what
    page 1 costs. One query whatever the page size: the orders with their customers (a join), nothing per row."""
    return keyset_page(
        order_queryset(filters).select_related("customer"),
        column="placed_at",
        descending=True,
        cursor=cursor,
        salt=CURSOR_SALT,
        decode=_moment,
        limit=limit,
    )


def order_for_user(user: Any, pk: int) -> Order:
    """The one accessor for an order addressed by an id from a URL: managers and owners (BROWSE) only."""
    if not user_can(user, Capability.BROWSE):
        raise PermissionDenied
    order = (
        Order.objects.select_related("customer")
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.order_by("id")),
            Prefetch("status_changes", queryset=OrderStatusChange.objects.select_related("changed_by")),
        )
        .filter(pk=pk)
        .first()
    )
    if order is None:
        raise Http404
    return order


def orders_for_customer(customer: Customer, limit: int = 100) -> list[Order]:
    """A customer's newest orders for the card's timeline (the ``order_customer_placed`` index)."""
    return list(Order.objects.filter(customer=customer).order_by("-placed_at", "-id")[:limit])


def customer_has_delivered_orders(customer_id: int) -> bool:
    """Whether the customer has an order in the delivered state (a returned order has left it): what a score is
    computed from."""
    return Order.objects.filter(customer_id=customer_id).delivered().exists()


@dataclass(frozen=True)
class MonthFigures:
    orders: int
    revenue: Decimal


def month_figures(now: datetime | None = None) -> MonthFigures:
    """Orders and revenue since the first of this month (shop's time zone), in one aggregate over the month's
    range of the ``order_placed`` index. Orders count everything not cancelled; revenue leaves out returns too,
    the same rules as the customers' totals."""
    local = timezone.localtime(now)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    figures = Order.objects.filter(placed_at__gte=start).aggregate(
        orders=Count("id", filter=~Q(status=OrderStatus.CANCELLED)),
        revenue=Sum("total", filter=~Q(status__in=[OrderStatus.CANCELLED, OrderStatus.RETURNED])),
    )
    return MonthFigures(orders=figures["orders"] or 0, revenue=figures["revenue"] or Decimal("0"))


@dataclass(frozen=True)
class DeliveredSummary:
    """A customer's delivered orders (returns and cancellations left out): what loyalty's tiers count."""

    orders: int
    spend: Decimal
    last_placed_at: datetime | None


def delivered_summary(customer_id: int) -> DeliveredSummary:
    """One aggregate over the customer's orders (the ``order_customer_placed`` index)."""
    row = Order.objects.filter(customer_id=customer_id, status=OrderStatus.DELIVERED).aggregate(
        n=Count("pk"), spend=Sum("total"), last=Max("placed_at")
    )
    return DeliveredSummary(orders=row["n"], spend=row["spend"] or Decimal("0.00"), last_placed_at=row["last"])


def delivered_summary_columns() -> dict[str, Subquery]:
    """:func:`delivered_summary` as three columns of a read over customers (``OuterRef("pk")``), so the caller card
    and the checkout quote read it in their one query; :func:`delivered_summary_from_columns` reads it back."""
    delivered = Order.objects.delivered().filter(customer_id=OuterRef("pk")).order_by().values("customer_id")
    return {
        "delivered_orders": Subquery(delivered.annotate(n=Count("pk")).values("n")),
        "delivered_spend": Subquery(delivered.annotate(total=Sum("total")).values("total")),
        "delivered_last": Subquery(delivered.annotate(last=Max("placed_at")).values("last")),
    }


def delivered_summary_from_columns(row: Mapping[str, Any]) -> DeliveredSummary:
    return DeliveredSummary(
        orders=row["delivered_orders"] or 0,
        spend=row["delivered_spend"] or Decimal("0.00"),
        last_placed_at=row["delivered_last"],
    )


# What the caller card shows of an order; a total travels as text, so that it comes back as the exact Decimal.
_CARD_ORDER_FIELDS = ("id", "external_id", "status", "placed_at", "currency")


def recent_orders_column(limit: int) -> ArraySubquery:
    """The customer's ``limit`` newest orders (the ``order_customer_placed`` index) as one column of a read over
    customers; :func:`orders_from_column` turns it into orders again."""
    return ArraySubquery(
        Order.objects.filter(customer_id=OuterRef("pk"))
        .order_by("-placed_at", "-id")
        .values(order=JSONObject(**{name: name for name in _CARD_ORDER_FIELDS}, total=Cast("total", CharField())))[
            :limit
        ]
    )


def orders_from_column(values: list[dict[str, Any]]) -> list[Order]:
    """The orders of :func:`recent_orders_column`, newest first, with the fields the card shows (any other field
    is read from the database when asked for)."""
    orders = []
    for value in values:
        read = {
            **value,
            "placed_at": datetime.fromisoformat(value["placed_at"]),
            "total": Decimal(value["total"]),
        }
        # ``from_db`` takes a partial row in the model's field order.
        names = [field.attname for field in Order._meta.concrete_fields if field.attname in read]
        orders.append(Order.from_db(None, names, [read[name] for name in names]))
    return orders


def delivered_order_rows() -> QuerySet[Order, Any]:
    """Delivered orders (returned ones are not), as (customer_id, placed_at, total): the revenue that stayed with
    the shop, for set-based reads that compose it as a subquery (analytics' monthly aggregates)."""
    return Order.objects.delivered().values("customer_id", "placed_at", "total")
