"""The nightly pre-aggregation of programme effects: for each programme, each window and each group, the sums the
statistics need (customers, buyers, orders, margin, cost, and Σ net, Σ net², Σ net³, Σ net⁴), set-based.

A customer's orders in a window are read in two parts. Orders placed long enough ago are settled: a full rewrite
(Sundays, ``analytics_refresh --full``, or an empty table) counts and sums each exposed customer's delivered
orders placed before a horizon ``SETTLED_AFTER`` days back into ``SettledOrders``, once per exposure; on weeknights
only exposures not seen before are added there, with the same horizon. Every night then reads, for every exposure,
its settled row and the delivered orders placed from the horizon on — the orders still being delivered, returned
or placed — and the programme's costs, and sums per programme, window and group in one statement. So a weeknight
reads a few weeks of orders, not ten million, and an order placed before the horizon whose status changes later (a
return months after the purchase) or that a merge moves to another customer is counted as it was until the next
full rewrite."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Min

from analytics.effect.sources import Programme, programmes
from analytics.models import ProgrammeEffect, SettledOrders
from orders.selectors import delivered_order_rows

# Days after a customer entered the programme; only customers whose whole window has passed are counted, so every
# customer in a window had the same time to buy.
WINDOWS = (30, 90, 180, 365)
# Orders are delivered, returned or cancelled within weeks of being placed: those placed this many days before a
# full rewrite are settled, the later ones read every night.
SETTLED_AFTER = 60
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
    "net_cubes",
    "net_fourths",
    "first_since",
]
# The plans the effect statement is kept from (see effects_fill).
PLAN = ("enable_nestloop", "enable_mergejoin", "enable_sort")
SETTLED_COLUMNS = [f"{kind}_{days}" for days in WINDOWS for kind in ("orders", "revenue")]


def _window_sums(prefix: str, expression: str, moment: str) -> str:
    """Per window, the sum of a count or of cents (bigint: PostgreSQL sums bigints into numeric)."""
    return ", ".join(
        f"SUM({expression}) FILTER (WHERE {moment} < e.until_{days})::bigint AS {prefix}{days}" for days in WINDOWS
    )


def _window_orders(moment: str) -> str:
    """Per window, the orders (counted on ``moment``, so a customer without orders counts 0) and their revenue."""
    return ", ".join(
        f"COUNT({moment}) FILTER (WHERE {moment} < e.until_{days}), "
        f"COALESCE(SUM(d.total) FILTER (WHERE {moment} < e.until_{days}), 0)"
        for days in WINDOWS
    )


def _exposures(found: list[Programme]) -> tuple[str, list[Any]]:
    """Every programme's exposures with the end of each window (``until_30`` … ``until_365``), reckoned once per
    exposure: adding days to a timestamp with a time zone is dear, and the window filters ran it for each of ten
    million orders eight or nine times over."""
    sql, params = _union([(p.key, *p.exposures) for p in found])
    ends = ", ".join(f"x.since + interval '{days} days' AS until_{days}" for days in WINDOWS)
    return f"SELECT x.*, {ends} FROM ({sql}) x", params  # noqa: S608 (the selectors' SQL and fixed window numbers)


def _union(parts: list[tuple[str, str, list[Any]]]) -> tuple[str, list[Any]]:
    """``SELECT key AS programme, rows.*`` of each programme's SQL, as one UNION ALL."""
    sql = " UNION ALL ".join(f"SELECT %s AS programme, x.* FROM ({part}) x" for _key, part, _params in parts)  # noqa: S608
    params = [value for key, _part, part_params in parts for value in (key, *part_params)]
    return sql, params


def _select(rows: Any) -> tuple[str, list[Any]]:
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def settled_fill(found: list[Programme], *, horizon: datetime, only_new: bool) -> int:
    """Count and sum each exposure's delivered orders placed from its entry to the horizon, per window, into
    ``SettledOrders`` (an exposure whose entry moved is rewritten). ``only_new``: the exposures without a row for
    their entry only, read through the orders' (customer, placed) index; otherwise every exposure, after emptying
    the table."""
    if not only_new:
        SettledOrders.objects.all().delete()
    exposures_sql, exposures_params = _exposures(found)
    orders_sql, orders_params = _select(delivered_order_rows().filter(placed_at__lt=horizon))
    table = SettledOrders._meta.db_table
    within = f"d.placed_at >= e.since AND d.placed_at < e.until_{max(WINDOWS)}"
    orders = f"LEFT JOIN ({orders_sql}) d ON d.customer_id = e.customer_id AND {within}"
    if only_new:
        # A few customers a night: each one's orders through the (customer, placed) index, whatever the planner
        # guesses of how many are new.
        exposures_sql = (
            f"SELECT * FROM ({exposures_sql}) e WHERE NOT EXISTS (SELECT 1 FROM {table} x "  # noqa: S608 (the table's name)
            "WHERE x.programme = e.programme AND x.customer_id = e.customer_id AND x.since = e.since)"
        )
        orders = f"LEFT JOIN LATERAL (SELECT * FROM ({orders_sql}) d WHERE d.customer_id = e.customer_id AND {within}) d ON TRUE"  # noqa: S608
    columns = ", ".join(SETTLED_COLUMNS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in ["since", "horizon", *SETTLED_COLUMNS])
    sql = f"""
        INSERT INTO {table} (programme, customer_id, since, horizon, {columns})
        SELECT e.programme, e.customer_id, e.since, %s, {_window_orders("d.placed_at")}
        FROM ({exposures_sql}) e {orders}
        GROUP BY e.programme, e.customer_id, e.since
        ON CONFLICT (programme, customer_id) DO UPDATE SET {updates}"""  # noqa: S608 (the selectors' SQL and fixed names; values as parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [horizon, *exposures_params, *orders_params])
        return cursor.rowcount


def effects_sql(found: list[Programme], *, margin: Decimal, now: datetime, lowest: datetime) -> tuple[str, list[Any]]:
    """One statement for every programme: each exposure's settled orders (``SettledOrders``), its delivered orders
    placed from its horizon on (``lowest``: the earliest horizon, so the orders are read as a range of their
    placing time) and its costs, per window; then per programme, window and group, with the sums of the first four
    powers of the net values (see :func:`_group_sums`).

    The per-customer money is reckoned in whole cents (bigint): a million customers' numeric margins, their
    conversions to floating point and their numeric sums were most of the statement's time, and the cents give the
    same figures (see :func:`_per_customer_sql`)."""
    exposures_sql, exposures_params = _exposures(found)
    costs_sql, costs_params = _union([(p.key, *p.costs) for p in found])
    orders_sql, orders_params = _select(delivered_order_rows().filter(placed_at__gte=lowest))
    longest = max(WINDOWS)
    share, whole = margin.as_integer_ratio()
    per_parts, per_window, sums, unpivot = _per_customer_sql(share, whole)
    windows = ", ".join(f"({days})" for days in WINDOWS)
    names = ", ".join("(%s, %s, %s)" for _ in found)
    same = "USING (programme, customer_id)"
    ends = ", ".join(f"e.until_{days}" for days in WINDOWS)
    settled = ", ".join(f"x.orders_{days}, (x.revenue_{days} * 100)::bigint AS revenue_{days}" for days in WINDOWS)
    sql = f"""
        WITH e AS MATERIALIZED ({exposures_sql}),
        s AS MATERIALIZED (
            SELECT e.programme, e.customer_id, e.grp, e.since, {ends}, x.horizon, {settled}
            FROM e JOIN {SettledOrders._meta.db_table} x ON x.programme = e.programme AND x.customer_id = e.customer_id),
        o AS (
            SELECT e.programme, e.customer_id, {_window_sums("orders", "1", "d.placed_at")},
                   {_window_sums("revenue", "d.cents", "d.placed_at")}
            FROM s e JOIN (SELECT customer_id, placed_at, (total * 100)::bigint AS cents FROM ({orders_sql}) d) d
              ON d.customer_id = e.customer_id
             AND d.placed_at >= GREATEST(e.since, e.horizon) AND d.placed_at < e.until_{longest}
            GROUP BY e.programme, e.customer_id),
        c AS (
            SELECT e.programme, e.customer_id, {_window_sums("discount", "(k.discount * 100)::bigint", "k.at")},
                   {_window_sums("credit", "(k.credit * 100)::bigint", "k.at")}
            FROM e JOIN ({costs_sql}) k ON k.programme = e.programme AND k.customer_id = e.customer_id
             AND k.at >= e.since AND k.at < e.until_{longest}
            GROUP BY e.programme, e.customer_id),
        per AS MATERIALIZED (
            SELECT programme, grp, since, {per_window} FROM (
                SELECT s.programme, s.grp, s.since, {per_parts}
                FROM s LEFT JOIN o {same} LEFT JOIN c {same}) parts),
        agg AS (
            SELECT a.programme, a.grp, w.*
            FROM (SELECT programme, grp, {sums} FROM per GROUP BY programme, grp) a
            CROSS JOIN LATERAL (VALUES {unpivot})
              w(days, customers, buyers, orders, margin, cost, net, squares, cubes, fourths, first_since))
        SELECT p.programme, p.name, p.url, w.days, g.grp, COALESCE(agg.customers, 0), COALESCE(agg.buyers, 0),
               COALESCE(agg.orders, 0), COALESCE(agg.margin / 100, 0), COALESCE(agg.cost / 100, 0),
               COALESCE(agg.net / 100, 0), COALESCE(agg.squares, 0), COALESCE(agg.cubes, 0),
               COALESCE(agg.fourths, 0), agg.first_since
        FROM (VALUES {names}) p(programme, name, url) CROSS JOIN (VALUES {windows}) w(days)
        CROSS JOIN (VALUES ('treated'), ('control')) g(grp)
        LEFT JOIN agg ON agg.programme = p.programme AND agg.days = w.days AND agg.grp = g.grp"""  # noqa: S608 (the selectors' SQL and fixed window numbers; values as parameters)
    named = [value for p in found for value in (p.key, p.name[:200], p.url[:200])]
    per_params = [now for _ in WINDOWS]
    params = [*exposures_params, *orders_params, *costs_params, *per_params, *named]
    return sql, params


def _per_customer_sql(share: int, whole: int) -> tuple[str, str, str, str]:
    """The pieces of the per-customer part of :func:`effects_sql`: each window's orders, margin (at the price before
    the programme's discounts, the margin being the fraction ``share / whole``), cost and whether it has passed
    (parameter: the moment, per window); the nets; the group sums; and the rows they unpivot into, one per window.

    Money is in cents (bigint). The margin of ``gross`` cents is ``share × gross / whole`` rounded to the cent half
    away from zero, as ``ROUND(margin × gross, 2)`` rounds in numeric, by integer division (which truncates toward
    zero) of twice the product plus or minus ``whole``; a product beyond bigint stops the refresh with an error
    rather than a wrong figure. A net of ``n`` cents enters the powers as ``n / 100.0``: both that division and the
    former numeric-to-double cast give the double nearest the exact amount, so each power is the same number."""
    per_window = ", ".join(
        f"orders{w}, margin{w}, cost{w}, margin{w} - cost{w} AS net{w}, (margin{w} - cost{w})::float8 / 100 AS real{w}, "
        f"done{w}"
        for w in WINDOWS
    )
    per_parts = ", ".join(
        f"s.orders_{w} + COALESCE(o.orders{w}, 0) AS orders{w}, "
        f"{_cents_margin(f's.revenue_{w} + COALESCE(o.revenue{w}, 0) + COALESCE(c.discount{w}, 0)', share, whole)} AS margin{w}, "
        f"COALESCE(c.discount{w}, 0) + COALESCE(c.credit{w}, 0) AS cost{w}, s.until_{w} <= %s AS done{w}"
        for w in WINDOWS
    )
    sums = ", ".join(_group_sums(w) for w in WINDOWS)
    unpivot = ", ".join(
        f"({w}, customers{w}, buyers{w}, orders{w}, margin{w}, cost{w}, net{w}, squares{w}, cubes{w}, fourths{w}, "
        f"first_since{w})"
        for w in WINDOWS
    )
    return per_parts, per_window, sums, unpivot


def _cents_margin(gross: str, share: int, whole: int) -> str:
    """``share × gross / whole`` cents rounded half away from zero (``share`` and ``whole`` are integers)."""
    product = f"{int(share)} * ({gross})"
    return (
        f"CASE WHEN {product} >= 0 THEN (2 * {product} + {int(whole)}) / {2 * int(whole)} "
        f"ELSE (2 * {product} - {int(whole)}) / {2 * int(whole)} END"
    )


def _group_sums(days: int) -> str:
    """A group's sums over the customers whose ``days`` window has passed: one pass over the exposures for all
    windows. The money sums are exact; the powers of the net values, which only shape the interval, are summed in
    floating point (numeric powers of a million customers' values cost seconds; a sum of squares of cents stays
    exact in a double up to 2⁵³ ten-thousandths)."""
    done = f"FILTER (WHERE done{days})"
    real = f"real{days}"
    return (
        f"COUNT(*) {done} AS customers{days}, COUNT(*) FILTER (WHERE done{days} AND orders{days} > 0) AS buyers{days}, "
        f"SUM(orders{days}) {done} AS orders{days}, SUM(margin{days}) {done} AS margin{days}, "
        f"SUM(cost{days}) {done} AS cost{days}, SUM(net{days}) {done} AS net{days}, "
        f"SUM({real} * {real}) {done} AS squares{days}, SUM({real} * {real} * {real}) {done} AS cubes{days}, "
        f"SUM({real} * {real} * {real} * {real}) {done} AS fourths{days}, MIN(since) {done} AS first_since{days}"
    )


def effects_fill(*, margin: Decimal, now: datetime, full: bool) -> None:
    """Rewrite ProgrammeEffect for all programmes (inside the refresh's transaction): settle the orders of every
    exposure (``full``, or while nothing is settled) or of the new exposures only, then one INSERT … SELECT."""
    ProgrammeEffect.objects.all().delete()
    found = programmes()
    if not found:
        return
    lowest = SettledOrders.objects.aggregate(lowest=Min("horizon"))["lowest"]
    if full or lowest is None:
        lowest = now - timedelta(days=SETTLED_AFTER)
        settled_fill(found, horizon=lowest, only_new=False)
        # The table was just rewritten inside this transaction: without fresh statistics the planner would take it
        # for the few rows it last saw and join a million exposures to it row by row.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SettledOrders._meta.db_table}")
    else:
        settled_fill(found, horizon=lowest, only_new=True)
    sql, params = effects_sql(found, margin=margin, now=now, lowest=lowest)
    with connection.cursor() as cursor:
        # The exposures come from a UNION the planner cannot count: left to itself it took a few dozen rows for a
        # million, probed the orders' index once per exposure and sorted four million rows on disk.
        # Hash joins and hash aggregates throughout: the groups (four per programme) and the customers fit in the
        # refresh's work_mem, and sorting a million rows by a text key cost more than the joins.
        for setting in PLAN:
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"INSERT INTO {ProgrammeEffect._meta.db_table} ({', '.join(COLUMNS)}) {sql}", params)
        for setting in PLAN:
            cursor.execute(f"SET LOCAL {setting} = on")
