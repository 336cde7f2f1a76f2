"""Customer statistics for the score, read from the orders: for the whole base in one aggregate (a full run) or for
a few customers in one statement (a changed order).

Per customer, from delivered orders (returned and cancelled ones are not delivered): purchase days (several orders
on one local day are one transaction, as the BG/NBD literature counts them), first and last purchase day, total
value and the first day's value (the repeat average leaves it out, as Gamma-Gamma wants); returns in the last 90
days; the active churn signals; and last month's churn risk.

Last month's churn risk is the customer's score as it stood when this month began, read from the live score row:
its churn risk if nothing has rescored it this month, else the previous churn risk the first rescore of the month
carried over. So a run reads it from the score table it replaces, and snapshots need no index by month.
"""

from __future__ import annotations

import io
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection
from django.utils import timezone

from scoring import order_scan
from scoring.engine.backtest import Split, split_history
from scoring.engine.survival import gap_histogram
from scoring.models import ChurnSignal
from scoring.pgcopy import decode

EPOCH = date(1970, 1, 1)
RETURN_WINDOW_DAYS = 90

# A few customers' rows (a changed order): one row per customer with a delivered order. The inner query groups a customer's orders by local day (one
# scan of the delivered and returned orders; the returns ride along instead of costing a second scan); the outer
# one summarises the days. The first day's value is the value at the smallest day, taken by an ordered aggregate.
_STATS = """
    SELECT customer_id,
           count(value)::float8,
           min(day) FILTER (WHERE value IS NOT NULL)::float8,
           max(day) FILTER (WHERE value IS NOT NULL)::float8,
           sum(value)::float8,
           (array_agg(value ORDER BY day) FILTER (WHERE value IS NOT NULL))[1]::float8,
           sum(returns)::float8
      FROM (
            SELECT customer_id,
                   (placed_at AT TIME ZONE %(zone)s)::date - DATE '1970-01-01' AS day,
                   sum(total) FILTER (WHERE status = 'delivered') AS value,
                   count(*) FILTER (WHERE status = 'returned' AND status_changed_at >= %(since)s) AS returns
              FROM orders_order
             WHERE status IN ('delivered', 'returned') {where}
             GROUP BY 1, 2
           ) AS days
     GROUP BY customer_id
    HAVING count(value) > 0
"""

# A few customers at once, with their signals and last month's churn risk: one round trip for a changed order.
_FEW = (
    "WITH stats (customer_id, days, first_day, last_day, total, first_value, returns) AS ("  # noqa: S608 (our own SQL text)
    + _STATS
    + """)
    SELECT stats.*,
           (SELECT CASE WHEN p.updated_at < %(month_start)s THEN p.churn_risk ELSE p.previous_churn_risk END
              FROM scoring_customerscore p WHERE p.customer_id = stats.customer_id),
           (SELECT json_agg(json_build_array(kind, detail, weight) ORDER BY id) FROM scoring_churnsignal c
             WHERE c.customer_id = stats.customer_id AND c.cleared_at IS NULL)
      FROM stats
     ORDER BY customer_id
"""
)

Signal = tuple[str, str, float]


@dataclass
class Stats:
    """Per-customer arrays, sorted by customer id; days are counted from 1970-01-01 in the shop's time zone."""

    customer_id: np.ndarray
    days: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    total: np.ndarray
    first_value: np.ndarray
    returns: np.ndarray
    # Last month's churn risk, NaN where there is none.
    previous_churn: np.ndarray
    # Active churn signals (kind, detail, weight) of the few customers who have any.
    signals: dict[int, list[Signal]] = field(default_factory=dict)
    # How many returns came d days after the previous purchase day, by d (``scoring.engine.survival``): a full
    # run's whole base only.
    gaps: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    # The history split at a backtest's cut-off, when the run was asked for one.
    split: Split | None = None

    @property
    def size(self) -> int:
        return int(self.customer_id.size)

    @property
    def x(self) -> np.ndarray:
        return self.days - 1.0

    @property
    def repeat_average(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.x > 0, (self.total - self.first_value) / np.maximum(self.x, 1), 0.0)


def local_day(moment: datetime, zone: ZoneInfo) -> int:
    return (moment.astimezone(zone).date() - EPOCH).days


def month_start(today: int, zone: ZoneInfo) -> datetime:
    """The moment this month began in the shop's time zone."""
    first = (EPOCH + timedelta(days=today)).replace(day=1)
    return datetime(first.year, first.month, 1, tzinfo=zone)


# Last month's churn risk from the live score row (see the module's docstring), where there is one.
_PREVIOUS = """
    SELECT customer_id, churn FROM (
        SELECT customer_id,
               CASE WHEN updated_at < %s THEN churn_risk ELSE previous_churn_risk END AS churn
          FROM scoring_customerscore
    ) AS scores
     WHERE churn IS NOT NULL
"""


def constant_offset(zone: ZoneInfo, first: datetime | None, last: datetime | None) -> timedelta | None:
    """The zone's UTC offset if it is the same from ``first`` to ``last``, else None. Sampled every six hours:
    no zone has kept an offset for less than that."""
    if first is None or last is None:
        return None
    offset = first.astimezone(zone).utcoffset()
    moment, step = first, timedelta(hours=6)
    while moment < last + step:
        if moment.astimezone(zone).utcoffset() != offset:
            return None
        moment += step
    return offset


def _since() -> datetime:
    return timezone.now() - timedelta(days=RETURN_WINDOW_DAYS)


def _from_rows(rows: np.ndarray) -> Stats:
    """Stats from rows of (customer, days, first, last, total, first value, returns), in any order."""
    rows = rows[np.argsort(rows[:, 0], kind="stable")] if rows.size else rows.reshape(0, 7)
    return Stats(
        customer_id=rows[:, 0].astype(np.int64),
        days=rows[:, 1],
        first_day=rows[:, 2],
        last_day=rows[:, 3],
        total=rows[:, 4],
        first_value=rows[:, 5],
        returns=rows[:, 6],
        previous_churn=np.full(rows.shape[0], np.nan),
    )


DAY_BITS = 17
DAY_RADIX = 1 << DAY_BITS
# The recent returns, a few rows found through the (status, status_changed_at) index.
_RETURNS = "SELECT customer_id FROM orders_order WHERE status = 'returned' AND status_changed_at >= %s"


def stats_from_postgres(zone: ZoneInfo, today: int, *, backtest_cutoff: int | None = None) -> Stats:
    """The whole base: the orders streamed out by binary COPY straight into numpy (no Python object per row),
    grouped by customer and day there; then the active signals and last month's churn risks, one read each.

    Where the shop's zone kept one UTC offset over the orders' whole span (Moscow since 2014, Almaty since 2004),
    the local day is taken at that fixed offset: the same days, without a look-up of the zone's rules per order,
    which costs a quarter of the scan's time on ten million orders. With ``backtest_cutoff`` (a day) the purchase
    days are also split there for a backtest (``Stats.split``), before numpy lets go of them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(placed_at), max(placed_at) FROM orders_order")
        offset = constant_offset(zone, *cursor.fetchone())
        query = cursor.mogrify(
            order_scan.ORDERS, {"radix": DAY_RADIX, "zone": str(zone) if offset is None else offset, "since": _since()}
        ).decode()
    # The order columns are handed over in a list the grouping empties: no reference here keeps the unsorted ten
    # million alive beside the sorted ones (150 MB at the run's peak).
    columns = order_scan.concatenated(order_scan.copy_orders(query))
    if connection.in_atomic_block:
        stats = _group_orders(columns, today, backtest_cutoff)
        extras = _extras(today, zone)
    else:
        # The recent returns, last month's churn risks and the signals are read on a connection of the thread's own
        # while numpy groups the orders (it lets go of the interpreter to sort), a core PostgreSQL has free then.
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(_extras_in_thread, today, zone)
            stats = _group_orders(columns, today, backtest_cutoff)
            extras = reading.result()
    returned, ids, churn, stats.signals = extras
    _count_returns(stats, returned)
    _place(stats, ids, churn)
    return stats


Extras = tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, list[Signal]]]


def _extras(today: int, zone: ZoneInfo) -> Extras:
    """One id per recent return, last month's churn risks by customer, and the active signals."""
    with connection.cursor() as cursor:
        returns = cursor.mogrify(_RETURNS, [_since()]).decode()
        buffer = io.BytesIO()
        cursor.copy_expert(f"COPY ({returns}) TO STDOUT (FORMAT binary)", buffer)
        (returned,) = decode(buffer.getbuffer(), ["int8"])
        previous = cursor.mogrify(_PREVIOUS, [month_start(today, zone)]).decode()
        buffer = io.BytesIO()
        cursor.copy_expert(f"COPY ({previous}) TO STDOUT (FORMAT binary)", buffer)
        ids, churn = decode(buffer.getbuffer(), ["int8", "float8"])
    return returned, ids, churn, active_signals(None)


def _extras_in_thread(today: int, zone: ZoneInfo) -> Extras:
    try:
        return _extras(today, zone)
    finally:
        connection.close()


def _group_orders(columns: list[np.ndarray], today: int, backtest_cutoff: int | None = None) -> Stats:
    """Per-customer statistics from the columns (customer × radix + day, value) of the delivered orders, which it
    takes out of the list.

    One sort by the key, then sums over runs of equal keys (purchase days) and runs of equal customers. Keys are
    never negative, so shifts and masks split them (integer division costs ten times as much on ten million)."""
    keys, values = columns
    columns.clear()
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    del order
    if keys.size == 0:
        return _from_rows(np.zeros((0, 7)))
    day_starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    day_keys, day_values = keys[day_starts], np.add.reduceat(values, day_starts)
    # The order-level columns go before anything else is built: the backtest's split below copies the day-level
    # ones, and the run must stay within its memory (the orders' 150 MB on a million customers).
    del keys, values, day_starts
    customers, days = day_keys >> DAY_BITS, (day_keys & (DAY_RADIX - 1)).astype(np.float64)
    del day_keys
    starts = np.flatnonzero(np.concatenate([[True], customers[1:] != customers[:-1]]))
    ends = np.concatenate([starts[1:], [customers.size]]) - 1
    ids = customers[starts]
    stats = Stats(
        gaps=gap_histogram(customers, days),
        customer_id=ids,
        days=np.diff(np.concatenate([starts, [customers.size]])).astype(np.float64),
        first_day=days[starts],
        last_day=days[ends],
        total=np.add.reduceat(day_values, starts),
        first_value=day_values[starts],
        returns=np.zeros(ids.size),
        previous_churn=np.full(ids.size, np.nan),
    )
    del starts, ends
    if backtest_cutoff is not None:
        stats.split = split_history(customers, days, day_values, cutoff=backtest_cutoff, end=today)
    return stats


def _count_returns(stats: Stats, customer_ids: np.ndarray) -> None:
    """Count each customer's recent returns (one id per return) beside the sorted stats."""
    if not customer_ids.size or not stats.size:
        return
    ids, counts = np.unique(customer_ids, return_counts=True)
    at = np.minimum(np.searchsorted(stats.customer_id, ids), stats.size - 1)
    found = stats.customer_id[at] == ids
    stats.returns[at[found]] = counts[found]


def _place(stats: Stats, ids: np.ndarray, churn: np.ndarray) -> None:
    """Put last month's churn risks (by customer id) beside the sorted stats."""
    if not ids.size or not stats.size:
        return
    at = np.minimum(np.searchsorted(stats.customer_id, ids), stats.size - 1)
    found = stats.customer_id[at] == ids
    stats.previous_churn[at[found]] = churn[found]


def stats_for_customers(customer_ids: list[int], zone: ZoneInfo, today: int) -> Stats:
    """A few customers in one statement (a changed order's rescore)."""
    params: dict[str, Any] = {
        "zone": str(zone),
        "since": _since(),
        "ids": list(customer_ids),
        "month_start": month_start(today, zone),
    }
    with connection.cursor() as cursor:
        cursor.execute(_FEW.format(where="AND customer_id = ANY(%(ids)s)"), params)
        rows = cursor.fetchall()
    stats = _from_rows(np.array([row[:7] for row in rows], dtype=np.float64).reshape(-1, 7))
    stats.previous_churn = np.array([np.nan if row[7] is None else row[7] for row in rows], dtype=np.float64)
    stats.signals = {int(row[0]): [(k, d, float(w)) for k, d, w in row[8]] for row in rows if row[8]}
    return stats


def active_signals(customer_ids: list[int] | None) -> dict[int, list[Signal]]:
    """Active (not cleared) churn signals by customer: one read through the partial index on active signals."""
    signals = ChurnSignal.objects.filter(cleared_at__isnull=True)
    if customer_ids is not None:
        signals = signals.filter(customer_id__in=customer_ids)
    found: dict[int, list[Signal]] = defaultdict(list)
    for customer_id, kind, detail, weight in signals.order_by("customer_id", "id").values_list(
        "customer_id", "kind", "detail", "weight"
    ):
        found[customer_id].append((kind, detail, weight))
    return dict(found)
