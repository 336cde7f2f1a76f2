"""Set-based writes of many orders and of their customers' summaries on PostgreSQL, in one statement each.

Django's ``bulk_update`` writes a ``CASE WHEN id = … THEN …`` per column with a branch per row: building it cost
more Python than the rest of a 1,000-order batch's update, and PostgreSQL evaluates each row's CASE branch by
branch. An ``UPDATE … FROM unnest(arrays)`` does the same in one pass.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from customers.models import Customer
from customers.services.data import OrdersSummary
from orders.models import Order, OrderStatus
from shop.db import rows_update
from shop.money import MONEY_DECIMAL_PLACES

SUMMARY_SQL = """
    UPDATE customers_customer AS c
       SET orders_count = COALESCE(s.n, 0),
           total_spent = COALESCE(s.spent, 0),
           first_order_at = s.first,
           last_order_at = s.last
      FROM (SELECT {customers}, a.n, a.spent, a.first, a.last
              FROM {customers_from}
              LEFT JOIN (
                    SELECT customer_id, count(*) AS n,
                           COALESCE(sum(total) FILTER (WHERE status <> 'returned'), 0) AS spent,
                           min(placed_at) AS first, max(placed_at) AS last
                      FROM orders_order
                     WHERE status <> 'cancelled' {orders_of}
                     GROUP BY customer_id
                   ) AS a ON a.customer_id = {customers}
           ) AS s
     WHERE c.id = s.id
       AND (c.orders_count, c.total_spent, c.first_order_at, c.last_order_at)
           IS DISTINCT FROM (COALESCE(s.n, 0), COALESCE(s.spent, 0), s.first, s.last)
"""
# Everyone: a customer with no order left is joined to nothing and gets zeros.
_EVERYONE = SUMMARY_SQL.format(customers="c2.id", customers_from="customers_customer AS c2", orders_of="")
# Some customers: their ids drive the join, so each is found by its primary key (a join to the table itself made
# PostgreSQL hash the whole customers table: 30 ms a batch on 100,000 customers, ten times that on a million).
_SOME = SUMMARY_SQL.format(
    customers="ids.id", customers_from="unnest(%s::bigint[]) AS ids(id)", orders_of="AND customer_id = ANY(%s)"
)


def summaries_refresh_postgres(customer_ids: Sequence[int] | None) -> int:
    """The summaries of ``customer_ids`` (``None``: the whole base) from one pass over their orders, grouped, rather
    than four correlated subqueries per customer; rows whose summary did not change are not rewritten. Returns how
    many changed."""
    with connection.cursor() as cursor:
        if customer_ids is None:
            cursor.execute(_EVERYONE)
        else:
            ids = list(customer_ids)
            cursor.execute(_SOME, [ids, ids])
        return cursor.rowcount


def orders_update_postgres(orders: Sequence[Order], fields: Sequence[str]) -> None:
    """Write ``fields`` of ``orders`` (already locked by the caller) in one ``UPDATE … FROM unnest``."""
    rows_update(Order, orders, fields)


def customer_summaries_refresh(*, customer_ids: Sequence[int] | None = None) -> int:
    """Recompute customers' order summaries from their orders in one set-based UPDATE (``None``: everyone).

    ``orders_count`` counts every order not cancelled; ``total_spent`` sums those not cancelled nor returned, the
    money the customer actually left with the shop. Callers changing orders hold the order rows' locks; the
    statement reads committed orders, so it is exact under concurrency once those locks are held.
    """
    counted = Order.objects.filter(customer_id=OuterRef("pk")).exclude(status=OrderStatus.CANCELLED).order_by()
    summary = counted.values("customer_id").annotate(
        n=Count("pk"),
        spent=Coalesce(Sum("total", filter=~Q(status=OrderStatus.RETURNED)), Value(Decimal("0"))),
        first=Min("placed_at"),
        last=Max("placed_at"),
    )
    queryset = Customer.objects.all()
    if customer_ids is not None:
        if not customer_ids:
            return 0
        queryset = queryset.filter(pk__in=customer_ids)
        # Lock the customers first, in id order, as a statement of its own: the UPDATE below then starts after any
        # concurrent writer of these customers committed, and its fresh snapshot sees that writer's orders.
        list(queryset.select_for_update().order_by("pk").values_list("pk", flat=True))
    if connection.vendor == "postgresql":
        return summaries_refresh_postgres(customer_ids)
    return queryset.update(
        orders_count=Coalesce(Subquery(summary.values("n")[:1]), Value(0)),
        total_spent=Coalesce(Subquery(summary.values("spent")[:1]), Value(Decimal("0"))),
        first_order_at=Subquery(summary.values("first")[:1]),
        last_order_at=Subquery(summary.values("last")[:1]),
    )


_CENT = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)


def new_order_summary(order: Order) -> OrdersSummary:
    """What one new order adds to its customer's summary, as ``orders.bulk.SUMMARY_SQL`` counts it: a cancelled
    order nothing, a returned one no money; the total as its column will hold it (PostgreSQL's numeric rounds half
    away from zero)."""
    if order.status == OrderStatus.CANCELLED:
        return OrdersSummary()
    spent = Decimal("0") if order.status == OrderStatus.RETURNED else order.total.quantize(_CENT, ROUND_HALF_UP)
    return OrdersSummary(1, spent, order.placed_at, order.placed_at)
