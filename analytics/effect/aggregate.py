"""The nightly pre-aggregation of programme effects: for each programme, each window and each group, the sums the
statistics need (customers, buyers, orders, margin, cost, Σ net, Σ net²), in one set-based statement that reads
each exposed customer's orders and costs once for all programmes and windows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from analytics.effect.sources import Programme, programmes
from analytics.models import ProgrammeEffect
from orders.selectors import delivered_order_rows

# Days after a customer entered the programme; only customers whose whole window has passed are counted, so every
# customer in a window had the same time to buy.
WINDOWS = (30, 90, 180, 365)
COLUMNS = [
    "programme",
    "name",
    "url",
    "window_days",
    '"group"',
    "customers",
    "buyers",
    "orders",
    "margin",
    "cost",
    "net",
    "net_squares",
    "first_since",
]


def _window_sums(prefix: str, expression: str, moment: str) -> str:
    return ", ".join(
        f"SUM({expression}) FILTER (WHERE {moment} < e.since + interval '{days} days') AS {prefix}{days}"
        for days in WINDOWS
    )


def _union(parts: list[tuple[str, str, list[Any]]]) -> tuple[str, list[Any]]:
    """``SELECT key AS programme, rows.*`` of each programme's SQL, as one UNION ALL."""
    sql = " UNION ALL ".join(f"SELECT %s AS programme, x.* FROM ({part}) x" for _key, part, _params in parts)  # noqa: S608
    params = [value for key, _part, part_params in parts for value in (key, *part_params)]
    return sql, params


def effects_sql(found: list[Programme], *, margin: Decimal, now: datetime) -> tuple[str, list[Any]]:
    """One statement for every programme, so the ten million orders are read once however many programmes there
    are: each exposed (programme, customer)'s orders and costs over the longest window, summed per window with
    FILTER, then per programme, window and group."""
    exposures_sql, exposures_params = _union([(p.key, *p.exposures) for p in found])
    costs_sql, costs_params = _union([(p.key, *p.costs) for p in found])
    orders_sql, orders_params = delivered_order_rows().query.sql_with_params()
    longest = max(WINDOWS)
    per_window = ", ".join(
        f"({days}, COALESCE(o.orders{days}, 0), COALESCE(o.revenue{days}, 0), "
        f"COALESCE(c.discount{days}, 0), COALESCE(c.credit{days}, 0))"
        for days in WINDOWS
    )
    windows = ", ".join(f"({days})" for days in WINDOWS)
    names = ", ".join("(%s, %s, %s)" for _ in found)
    same = "USING (programme, customer_id)"
    sql = f"""
        WITH e AS MATERIALIZED ({exposures_sql}),
        o AS (
            SELECT e.programme, e.customer_id, {_window_sums("orders", "1", "d.placed_at")},
                   {_window_sums("revenue", "d.total", "d.placed_at")}
            FROM e JOIN ({orders_sql}) d ON d.customer_id = e.customer_id
             AND d.placed_at >= e.since AND d.placed_at < e.since + interval '{longest} days'
            GROUP BY e.programme, e.customer_id),
        c AS (
            SELECT e.programme, e.customer_id, {_window_sums("discount", "k.discount", "k.at")},
                   {_window_sums("credit", "k.credit", "k.at")}
            FROM e JOIN ({costs_sql}) k ON k.programme = e.programme AND k.customer_id = e.customer_id
             AND k.at >= e.since AND k.at < e.since + interval '{longest} days'
            GROUP BY e.programme, e.customer_id),
        per AS (
            SELECT e.programme, e.grp, e.since, w.days, w.orders,
                   ROUND(%s * (w.revenue + w.discount), 2) AS margin, w.discount + w.credit AS cost
            FROM e LEFT JOIN o {same} LEFT JOIN c {same}
            CROSS JOIN LATERAL (VALUES {per_window}) w(days, orders, revenue, discount, credit)
            WHERE e.since + w.days * interval '1 day' <= %s),
        agg AS (
            SELECT programme, days, grp, COUNT(*) AS customers, COUNT(*) FILTER (WHERE orders > 0) AS buyers,
                   SUM(orders) AS orders, SUM(margin) AS margin, SUM(cost) AS cost, SUM(margin - cost) AS net,
                   SUM((margin - cost) * (margin - cost)) AS squares, MIN(since) AS first_since
            FROM per GROUP BY programme, days, grp)
        SELECT p.programme, p.name, p.url, w.days, g.grp, COALESCE(agg.customers, 0), COALESCE(agg.buyers, 0),
               COALESCE(agg.orders, 0), COALESCE(agg.margin, 0), COALESCE(agg.cost, 0), COALESCE(agg.net, 0),
               COALESCE(agg.squares, 0), agg.first_since
        FROM (VALUES {names}) p(programme, name, url) CROSS JOIN (VALUES {windows}) w(days)
        CROSS JOIN (VALUES ('treated'), ('control')) g(grp)
        LEFT JOIN agg ON agg.programme = p.programme AND agg.days = w.days AND agg.grp = g.grp"""  # noqa: S608 (the selectors' SQL and fixed window numbers; values as parameters)
    named = [value for p in found for value in (p.key, p.name[:200], p.url[:200])]
    params = [*exposures_params, *orders_params, *costs_params, margin, now, *named]
    return sql, params


def effects_fill(*, margin: Decimal, now: datetime) -> None:
    """Rewrite ProgrammeEffect with one INSERT … SELECT for all programmes (inside the refresh's transaction)."""
    ProgrammeEffect.objects.all().delete()
    found = programmes()
    if not found:
        return
    sql, params = effects_sql(found, margin=margin, now=now)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {ProgrammeEffect._meta.db_table} ({', '.join(COLUMNS)}) {sql}", params)
