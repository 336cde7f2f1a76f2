"""The nightly pre-aggregation of programme effects: for each programme, each window and each group, the sums the
statistics need (customers, buyers, orders, margin, cost, and Σ net, Σ net², Σ net³, Σ net⁴), set-based.

Each exposure's delivered orders and costs per window are kept in ``ExposureValue`` (whole cents), and the group
sums in ``ProgrammeEffect`` are exact (integer cents and their powers, summed as integers), so they can be kept up
to date by difference: a weeknight finds the exposures something happened to since the last run, subtracts what
they counted for then, recomputes them from their orders and costs, and adds what they count for now. The sums come
out the same as a full recompute's, digit for digit (``tests/analytics/test_effect_incremental.py``).

An exposure is reread when it is new, gone, or moved (another group or entry time); when an order of its customer
was placed, changed or moved since the last run (``orders.updated_at``, which every write of an order stamps, read
from an hour before the last run's start so that a write committed after that run began is not missed) or the
customer was merged into another; when its costs differ from the stored ones (every programme's costs are read:
they are a fraction of the orders); and when one of its windows closed since the last run. A full rewrite (Sundays,
``analytics_refresh --full``, an empty table, a change of the gross margin) recomputes every exposure."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from analytics.effect.sources import Programme, programmes
from analytics.models import EffectBasis, ExposureValue, ProgrammeEffect
from customers.models import Customer
from orders.models import Order
from orders.selectors import delivered_order_rows

# Days after a customer entered the programme; only customers whose whole window has passed are counted, so every
# customer in a window had the same time to buy.
WINDOWS = (30, 90, 180, 365)
# A weeknight reads the orders changed from this long before the previous run began: an order written by a
# transaction that began before that run and committed after it was invisible to it.
CHANGES_OVERLAP = timedelta(hours=1)
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
# The plans the full rewrite's statements are kept from (see effects_fill).
PLAN = ("enable_nestloop", "enable_mergejoin", "enable_sort")
KINDS = ("orders", "revenue", "discount", "credit")
VALUE_COLUMNS = [f"{kind}_{days}" for days in WINDOWS for kind in KINDS]
COSTS = [f"{kind}_{days}" for days in WINDOWS for kind in ("discount", "credit")]
# The sums of one group and window, as they are unpivoted and stored (ProgrammeEffect's columns after the group).
SUMS = ["customers", "buyers", "orders", "margin", "cost", "net", "squares", "cubes", "fourths"]
DIRTY = "analytics_effect_dirty"
# The stored rows with a cost (ExposureValue's partial index ``analytics_value_costed``).
COSTED = " OR ".join(f"v.{name} <> 0" for name in COSTS)
DELTA = "analytics_effect_delta"


def _select(rows: Any) -> tuple[str, list[Any]]:
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def _union(parts: list[tuple[str, str, list[Any]]]) -> tuple[str, list[Any]]:
    """``SELECT key AS programme, rows.*`` of each programme's SQL, as one UNION ALL."""
    sql = " UNION ALL ".join(f"SELECT %s AS programme, x.* FROM ({part}) x" for _key, part, _params in parts)  # noqa: S608
    params = [value for key, _part, part_params in parts for value in (key, *part_params)]
    return sql, params


def _ends(alias: str) -> str:
    return ", ".join(f"{alias}.since + interval '{days} days' AS until_{days}" for days in WINDOWS)


def _exposures(found: list[Programme]) -> tuple[str, list[Any]]:
    """Every programme's exposures ``(programme, customer_id, grp, since)``."""
    return _union([(p.key, *p.exposures) for p in found])


def _values_sql(found: list[Programme], *, dirty_only: bool) -> tuple[str, list[Any]]:
    """``INSERT INTO ExposureValue`` each exposure's orders (counted and summed in cents) and costs per window: all
    exposures, their orders read in one pass over the delivered orders; or, ``dirty_only``, those listed in the dirty
    table, each customer's orders through the orders' (customer, placed) index."""
    exposures_sql, exposures_params = _exposures(found)
    costs_sql, costs_params = _union([(p.key, *p.costs) for p in found])
    orders_sql, orders_params = _select(delivered_order_rows())
    longest = max(WINDOWS)
    within = f"d.placed_at >= e.since AND d.placed_at < e.until_{longest}"
    counted = ", ".join(
        f"COUNT(*) FILTER (WHERE d.placed_at < e.until_{days}) AS orders_{days}, "
        f"COALESCE(SUM(d.cents) FILTER (WHERE d.placed_at < e.until_{days}), 0)::bigint AS revenue_{days}"
        for days in WINDOWS
    )
    cents = "SELECT customer_id, placed_at, (total * 100)::bigint AS cents FROM"
    if dirty_only:
        chosen = f"JOIN {DIRTY} dirty ON dirty.programme = x.programme AND dirty.customer_id = x.customer_id"
        # One row per exposure (an aggregate without GROUP BY), read through the (customer, placed) index.
        orders = (
            f"CROSS JOIN LATERAL (SELECT {counted} FROM ({cents} ({orders_sql}) o) d "  # noqa: S608
            f"WHERE d.customer_id = e.customer_id AND {within}) o"
        )
    else:
        chosen = ""
        orders = (
            f"LEFT JOIN (SELECT e.programme, e.customer_id, {counted} FROM e "  # noqa: S608
            f"JOIN ({cents} ({orders_sql}) o) d ON d.customer_id = e.customer_id AND {within} "
            "GROUP BY e.programme, e.customer_id) o ON o.programme = e.programme AND o.customer_id = e.customer_id"
        )
    costs = ", ".join(
        f"COALESCE(SUM((k.{kind} * 100)::bigint) FILTER (WHERE k.at < e.until_{days}), 0)::bigint AS {kind}_{days}"
        for days in WINDOWS
        for kind in ("discount", "credit")
    )
    # In VALUE_COLUMNS' order: orders, revenue, discount, credit per window.
    picked = ", ".join(
        f"COALESCE({'o' if kind in ('orders', 'revenue') else 'c'}.{kind}_{days}, 0)"
        for days in WINDOWS
        for kind in KINDS
    )
    table = ExposureValue._meta.db_table
    sql = f"""
        WITH e AS MATERIALIZED (SELECT x.*, {_ends("x")} FROM ({exposures_sql}) x {chosen}),
        c AS (
            SELECT e.programme, e.customer_id, {costs}
            FROM e JOIN ({costs_sql}) k ON k.programme = e.programme AND k.customer_id = e.customer_id
             AND k.at >= e.since AND k.at < e.until_{longest}
            GROUP BY e.programme, e.customer_id)
        /*insert*/ INSERT INTO {table} (programme, customer_id, "group", since, {", ".join(VALUE_COLUMNS)})
        SELECT e.programme, e.customer_id, e.grp, e.since, {picked}
        FROM e {orders}
        LEFT JOIN c ON c.programme = e.programme AND c.customer_id = e.customer_id /*returning*/"""  # noqa: S608 (the selectors' SQL and fixed names; values as parameters)
    return sql, [*exposures_params, *costs_params, *orders_params]


def _cents_margin(gross: str, share: int, whole: int) -> str:
    """``share × gross / whole`` cents rounded half away from zero, as ``ROUND(margin × gross, 2)`` rounds in
    numeric, by integer division (which truncates toward zero) of twice the product plus or minus ``whole``; a
    product beyond bigint stops the refresh with an error rather than a wrong figure."""
    product = f"{int(share)} * ({gross})"
    return (
        f"CASE WHEN {product} >= 0 THEN (2 * {product} + {int(whole)}) / {2 * int(whole)} "
        f"ELSE (2 * {product} - {int(whole)}) / {2 * int(whole)} END"
    )


def _sums_sql(margin: Decimal, *, source: str) -> str:
    """Per programme, group and window, the sums over the ``ExposureValue`` rows picked by ``where`` whose window
    had passed at the moment given as the parameter (one per window): ``(programme, grp, days, customers, buyers,
    orders, margin, cost, net, squares, cubes, fourths)``, money in cents and the powers of cents, all exact (the
    squares in bigint, the cubes and fourth powers in numeric)."""
    share, whole = margin.as_integer_ratio()
    per = ", ".join(
        f"v.orders_{w} AS orders{w}, "
        f"{_cents_margin(f'v.revenue_{w} + v.discount_{w}', share, whole)} AS margin{w}, "
        f"v.discount_{w} + v.credit_{w} AS cost{w}, v.since + interval '{w} days' <= %s AS done{w}"
        for w in WINDOWS
    )
    nets = ", ".join(f"orders{w}, margin{w}, cost{w}, margin{w} - cost{w} AS net{w}, done{w}" for w in WINDOWS)
    sums = ", ".join(
        f"COUNT(*) FILTER (WHERE done{w}) AS customers{w}, "
        f"COUNT(*) FILTER (WHERE done{w} AND orders{w} > 0) AS buyers{w}, "
        f"SUM(orders{w}) FILTER (WHERE done{w}) AS orders{w}, SUM(margin{w}) FILTER (WHERE done{w}) AS margin{w}, "
        f"SUM(cost{w}) FILTER (WHERE done{w}) AS cost{w}, SUM(net{w}) FILTER (WHERE done{w}) AS net{w}, "
        f"SUM(net{w} * net{w}) FILTER (WHERE done{w} AND net{w} <> 0) AS squares{w}, "
        f"{_power_sum(f'net{w}', 3, f'done{w}')} AS cubes{w}, {_power_sum(f'net{w}', 4, f'done{w}')} AS fourths{w}"
        for w in WINDOWS
    )
    unpivot = ", ".join(f"({w}, {', '.join(f'{name}{w}' for name in SUMS)})" for w in WINDOWS)
    return f"""
        SELECT a.programme, a.grp, w.*
        FROM (SELECT programme, grp, {sums} FROM (
                SELECT programme, grp, {nets} FROM (
                    SELECT v.programme, v."group" AS grp, {per} FROM {source} v) per) nets
              GROUP BY programme, grp) a
        CROSS JOIN LATERAL (VALUES {unpivot}) w(days, {", ".join(SUMS)})"""  # noqa: S608 (fixed names and numbers)


# The largest whole number whose cube, and whose fourth power, fits in a bigint (2⁶³ − 1).
BIGINT_ROOTS = {3: 2_097_151, 4: 55_108}


def _power_sum(net: str, power: int, done: str) -> str:
    """Σ net^power over the rows where ``done``, exactly: in bigint (which PostgreSQL sums in 128 bits) for the
    values whose power fits in it, nearly all of them, and in numeric, dearer, for the rest."""
    product = " * ".join([net] * power)
    widened = " * ".join([f"{net}::numeric"] + [net] * (power - 1))
    root = BIGINT_ROOTS[power]
    return (
        f"COALESCE(SUM({product}) FILTER (WHERE {done} AND {net} <> 0 AND {net} BETWEEN -{root} AND {root}), 0) "
        f"+ COALESCE(SUM({widened}) FILTER (WHERE {done} AND NOT {net} BETWEEN -{root} AND {root}), 0)"
    )


def _delta_sql(margin: Decimal, *, source: str, sign: int) -> str:
    """``INSERT INTO`` the delta table the sums of the rows of ``source`` (a table or a CTE's name), times ``sign``;
    the moment's parameter once per window."""
    signed = ", ".join(f"{sign} * {name}" for name in SUMS)
    return f"INSERT INTO {DELTA} SELECT programme, grp, days, {signed} FROM ({_sums_sql(margin, source=source)}) s"  # noqa: S608


def _effects_write(found: list[Programme], *, now: datetime) -> None:
    """Rewrite ProgrammeEffect: each programme's stored sums plus the delta table's, named as the programme is now;
    the earliest entry of each group whose window has passed from ``ExposureValue``'s index."""
    effect = ProgrammeEffect._meta.db_table
    table = ExposureValue._meta.db_table
    names = ", ".join("(%s, %s, %s)" for _ in found)
    windows = ", ".join(f"({days}, interval '{days} days')" for days in WINDOWS)
    added = ", ".join(f"SUM({name}) AS {name}" for name in SUMS)
    sql = f"""
        WITH old AS (DELETE FROM {effect} RETURNING *),
        d AS (SELECT programme, grp, days, {added} FROM {DELTA} GROUP BY programme, grp, days),
        first AS (SELECT p.programme, g.grp,
                         (SELECT MIN(v.since) FROM {table} v WHERE v.programme = p.programme AND v."group" = g.grp) AS since
                  FROM (VALUES {names}) p(programme, name, url) CROSS JOIN (VALUES ('treated'), ('control')) g(grp))
        INSERT INTO {effect} ({", ".join(COLUMNS)})
        SELECT p.programme, p.name, p.url, w.days, g.grp,
               COALESCE(old.customers, 0) + COALESCE(d.customers, 0),
               COALESCE(old.buyers, 0) + COALESCE(d.buyers, 0),
               COALESCE(old.orders, 0) + COALESCE(d.orders, 0),
               COALESCE(old.margin, 0) + COALESCE(d.margin, 0) * 0.01,
               COALESCE(old.cost, 0) + COALESCE(d.cost, 0) * 0.01,
               COALESCE(old.net, 0) + COALESCE(d.net, 0) * 0.01,
               COALESCE(old.net_squares, 0) + COALESCE(d.squares, 0) * 0.0001,
               COALESCE(old.net_cubes, 0) + COALESCE(d.cubes, 0) * 0.000001,
               COALESCE(old.net_fourths, 0) + COALESCE(d.fourths, 0) * 0.00000001,
               CASE WHEN first.since + w.span <= %s THEN first.since END
        FROM (VALUES {names}) p(programme, name, url) CROSS JOIN (VALUES {windows}) w(days, span)
        CROSS JOIN (VALUES ('treated'), ('control')) g(grp)
        LEFT JOIN old ON old.programme = p.programme AND old.window_days = w.days AND old."group" = g.grp
        LEFT JOIN d ON d.programme = p.programme AND d.days = w.days AND d.grp = g.grp
        LEFT JOIN first ON first.programme = p.programme AND first.grp = g.grp"""  # noqa: S608 (fixed names and numbers; values as parameters)
    named = [value for p in found for value in (p.key, p.name[:200], p.url[:200])]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*named, now, *named])


def _costs_changed(found: list[Programme]) -> tuple[str, list[Any]]:
    """``INSERT INTO`` the dirty table the exposures whose costs differ from the stored ones, and those with stored
    costs no longer found (a checkout reversed)."""
    costs_sql, costs_params = _union([(p.key, *p.costs) for p in found])
    table = ExposureValue._meta.db_table
    costs = ", ".join(
        f"COALESCE(SUM((k.{kind} * 100)::bigint) FILTER (WHERE k.at < v.since + interval '{days} days'), 0)::bigint "
        f"AS {kind}_{days}"
        for days in WINDOWS
        for kind in ("discount", "credit")
    )
    stored = ", ".join(f"v.{name}" for name in COSTS)
    recomputed = ", ".join(f"c.{name}" for name in COSTS)
    sql = f"""
        INSERT INTO {DIRTY} (programme, customer_id)
        WITH c AS MATERIALIZED (
            SELECT v.programme, v.customer_id, {costs}
            FROM ({costs_sql}) k JOIN {table} v ON v.programme = k.programme AND v.customer_id = k.customer_id
             AND k.at >= v.since AND k.at < v.since + interval '{max(WINDOWS)} days'
            GROUP BY v.programme, v.customer_id)
        SELECT c.programme, c.customer_id FROM c JOIN {table} v USING (programme, customer_id)
        WHERE ({stored}) IS DISTINCT FROM ({recomputed})
        UNION
        SELECT v.programme, v.customer_id FROM {table} v WHERE ({COSTED})
          AND NOT EXISTS (SELECT 1 FROM c WHERE c.programme = v.programme AND c.customer_id = v.customer_id)
        ON CONFLICT DO NOTHING"""  # noqa: S608 (the selectors' SQL and fixed names; values as parameters)
    return sql, costs_params


def _dirty_find(found: list[Programme], *, since: datetime, changes_from: datetime, now: datetime) -> None:
    """Fill the dirty table with the exposures to reread (see the module's docstring); ``since``: the moment the
    stored sums were taken at. Each part reads an index or a few rows, not the million exposures' orders."""
    exposures_sql, exposures_params = _exposures(found)
    table = ExposureValue._meta.db_table
    keys = [p.key for p in found]
    fresh = [p.key for p in found if not ExposureValue.objects.filter(programme=p.key).exists()]
    insert = f"INSERT INTO {DIRTY} (programme, customer_id) "
    # Each window's ends that fell between the two moments, as a range of entry times on the index (a day wider on
    # each side for the hour a change of clocks moves a day by), then exactly.
    closed = " UNION ".join(
        f"SELECT programme, customer_id FROM {table} v WHERE v.since > %s AND v.since <= %s "  # noqa: S608
        f"AND v.since + interval '{days} days' > %s AND v.since + interval '{days} days' <= %s"
        for days in WINDOWS
    )
    changed = (
        f"SELECT customer_id FROM {Order._meta.db_table} WHERE updated_at >= %s "  # noqa: S608 (table names)
        f"UNION SELECT id FROM {Customer._meta.db_table} WHERE merged_into_id IS NOT NULL AND updated_at >= %s "
        f"UNION SELECT merged_into_id FROM {Customer._meta.db_table} WHERE merged_into_id IS NOT NULL AND updated_at >= %s"
    )
    statements = [
        # Every programme's exposure, if any, of a customer whose orders changed or who was merged (either side: the
        # orders, entries and costs moved).
        (
            f"{insert} SELECT p.programme, ch.customer_id FROM unnest(%s::varchar[]) p(programme) "  # noqa: S608
            f"CROSS JOIN ({changed}) ch ON CONFLICT DO NOTHING",
            [keys, changes_from, changes_from, changes_from],
        ),
        # Exposures recorded since (an exposure is dated when it is recorded), and every exposure of a programme
        # not measured before (a rule's first recording dates its customers at its start).
        (
            f"{insert} SELECT programme, customer_id FROM ({exposures_sql}) e "  # noqa: S608 (the selectors' SQL)
            "WHERE e.since >= %s OR e.programme = ANY(%s::varchar[]) ON CONFLICT DO NOTHING",
            [*exposures_params, changes_from, fresh],
        ),
        (
            f"{insert} {closed} ON CONFLICT DO NOTHING",
            [
                value
                for days in WINDOWS
                for value in (since - timedelta(days=days + 1), now - timedelta(days=days - 1), since, now)
            ],
        ),
        _costs_changed(found),
    ]
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute(f"ANALYZE {DIRTY}")


def _temporary_tables() -> None:
    sums = ", ".join(f"{name} numeric" for name in SUMS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DIRTY}, {DELTA}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {DIRTY} (programme varchar(40), customer_id bigint, "
            "PRIMARY KEY (programme, customer_id)) ON COMMIT DROP"
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {DELTA} (programme varchar(40), grp varchar(10), days int, {sums}) ON COMMIT DROP"
        )


def _basis(margin: Decimal, now: datetime, *, full: bool) -> EffectBasis | None:
    """The stored sums' basis when a weeknight can add to them: not asked for a full rewrite, sums kept by
    difference before (their basis is written with them), the same margin and a later moment."""
    basis = EffectBasis.objects.first()
    if full or basis is None or basis.margin != margin or basis.measured_at > now:
        return None
    return basis


def effects_fill(*, margin: Decimal, now: datetime, full: bool) -> None:
    """Bring ProgrammeEffect up to ``now`` for all programmes (inside the refresh's transaction): on a full rewrite
    every exposure's values and the sums afresh; otherwise the dirty exposures' values and the sums by difference."""
    found = programmes()
    basis = _basis(margin, now, full=full)
    table = ExposureValue._meta.db_table
    keys = [p.key for p in found]
    _temporary_tables()
    with connection.cursor() as cursor:
        if basis is None:
            ProgrammeEffect.objects.all().delete()
            ExposureValue.objects.all().delete()
            if found:
                sql, params = _values_sql(found, dirty_only=False)
                # The exposures come from a UNION the planner cannot count: left to itself it took a few dozen rows
                # for a million and probed the orders' index once per exposure. Hash joins and aggregates instead.
                for setting in PLAN:
                    cursor.execute(f"SET LOCAL {setting} = off")
                cursor.execute(sql, params)
                for setting in PLAN:
                    cursor.execute(f"SET LOCAL {setting} = on")
                # Written inside this transaction: without fresh statistics the next night's planner would take the
                # table for the few rows it last saw.
                cursor.execute(f"ANALYZE {table}")
                cursor.execute(_delta_sql(margin, source=table, sign=1), [now for _ in WINDOWS])
        else:
            # Programmes no longer measured leave with their rows (those the stored sums name).
            measured = set(ProgrammeEffect.objects.values_list("programme", flat=True).distinct())
            ExposureValue.objects.filter(programme__in=sorted(measured - set(keys))).delete()
            if found:
                _dirty_find(found, since=basis.measured_at, changes_from=basis.changes_from, now=now)
                # What the dirty exposures counted for at the last run, as they leave the table; then what they
                # count for now, as they are written back.
                gone = (
                    f"WITH gone AS (DELETE FROM {table} v USING {DIRTY} d "  # noqa: S608 (fixed names)
                    "WHERE v.programme = d.programme AND v.customer_id = d.customer_id RETURNING v.*) "
                )
                cursor.execute(gone + _delta_sql(margin, source="gone", sign=-1), [basis.measured_at for _ in WINDOWS])
                sql, params = _values_sql(found, dirty_only=True)
                added = f"RETURNING *) {_delta_sql(margin, source='added', sign=1)}"
                written = sql.replace("/*insert*/", ", added AS (").replace("/*returning*/", added)
                cursor.execute(written, [*params, *[now for _ in WINDOWS]])
    if found:
        _effects_write(found, now=now)
    else:
        ProgrammeEffect.objects.all().delete()
    EffectBasis.objects.all().delete()
    EffectBasis.objects.create(measured_at=now, margin=margin, changes_from=now - CHANGES_OVERLAP)
