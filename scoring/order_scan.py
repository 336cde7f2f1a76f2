"""The scoring run's read of every delivered order: two connections in one snapshot, each over half of the
table's pages, each range of pages received as one packed value and read by numpy as records (no Python object
per order). ``scoring.statistics`` groups what this returns."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import psycopg2
from django.db import connection, transaction

from scoring.pgcopy import decode_bytea

# The whole base: one row per delivered order, packed into two fixed-width fields so that PostgreSQL does a plain
# scan and numpy does the grouping. A two-level GROUP BY (customer and day, then customer) costs PostgreSQL five
# times the CPU of this scan on ten million orders: its first level has as many groups as orders. The rows of a
# range of pages come as one value, their fields' binary forms one after another (16 bytes an order): received one
# by one, psycopg2's call per row cost the worker 1.2 s of CPU on 8.7 million orders, 0.25 s packed, for the same
# CPU in PostgreSQL. ``{pages}`` is the range's condition on ctid (a TID range scan).
ORDERS = """
    SELECT string_agg(
             int8send(customer_id * %(radix)s + ((placed_at AT TIME ZONE %(zone)s)::date - DATE '1970-01-01'))
             || float8send(total::float8),
             ''::bytea)
      FROM orders_order
     WHERE status = 'delivered' AND {pages}
"""
# Pages per packed value: 16,384 pages (128 MB of orders) hold about 800,000 orders, 13 MB packed.
CHUNK_PAGES = 16384
_PACKED = np.dtype([("key", ">i8"), ("value", ">f8")])


def _copy_out(cursor: Any, query: str, first: int, last: int | None, pages: int) -> list[np.ndarray]:
    """The keys and values of the delivered orders on pages ``first`` to ``last`` (None: to the table's end, of
    ``pages`` pages when the scan began), one packed value per chunk of pages, joined."""
    # A plain scan gains nothing from JIT compilation, which costs half a second on a query this size.
    cursor.execute("SET jit = off")
    keys: list[np.ndarray] = []
    values: list[np.ndarray] = []
    try:
        for pages_condition in page_ranges(first, last, pages):
            buffer = io.BytesIO()
            cursor.copy_expert(f"COPY ({query.format(pages=pages_condition)}) TO STDOUT (FORMAT binary)", buffer)
            records = np.frombuffer(decode_bytea(buffer.getbuffer()), dtype=_PACKED)
            keys.append(records["key"].astype(np.int64))
            values.append(records["value"].astype(np.float64))
            del records
            buffer.close()
    finally:
        cursor.execute("RESET jit")
    return [np.concatenate(keys), np.concatenate(values)]


def page_ranges(first: int, last: int | None, pages: int) -> list[str]:
    """Conditions on ctid splitting pages ``first`` to ``last`` into chunks of at most :data:`CHUNK_PAGES`. With
    ``last`` None the range runs to the table's end (``pages`` long when the scan began), and its last chunk is
    open-ended, so that no page is left out."""
    end = pages if last is None else last
    bounds = list(range(first, end, CHUNK_PAGES)) or [first]
    conditions = [f"ctid >= '({start},0)'::tid AND ctid < '({start + CHUNK_PAGES},0)'::tid" for start in bounds]
    tail = f"ctid >= '({bounds[-1]},0)'::tid"
    conditions[-1] = tail if last is None else f"{tail} AND ctid < '({last},0)'::tid"
    return conditions


def copy_orders(query: str) -> list[list[np.ndarray]]:
    """The order rows, read by two connections at once, each over half of the table's pages, in one snapshot.

    PostgreSQL sends a COPY's rows from one process, and writing ten million of them is most of the statistics'
    time; two halves keep both cores busy (13.3 s → 8.0 s on a million customers here). The second connection
    imports this transaction's exported snapshot, so both halves see the same orders. Inside an outer transaction
    (a caller's ``atomic``, a test) another connection could not see its uncommitted rows: one connection reads
    everything then."""
    size = "SELECT pg_relation_size('orders_order') / current_setting('block_size')::int"
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(size)
            (pages,) = cursor.fetchone()
            return [_copy_out(cursor, query, 0, None, pages)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(f"SELECT pg_export_snapshot(), ({size})")
        snapshot, pages = cursor.fetchone()
        middle = pages // 2
        with ThreadPoolExecutor(max_workers=1) as pool:
            other = pool.submit(_copy_other_half, query, middle, pages, snapshot)
            mine = _copy_out(cursor, query, 0, middle, pages)
            return [mine, other.result()]


def _copy_other_half(query: str, first: int, pages: int, snapshot: str) -> list[np.ndarray]:
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            return _copy_out(cursor, query, first, None, pages)
    finally:
        other.rollback()
        other.close()


def concatenated(pieces: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The halves' columns joined, each half freed as soon as its columns are copied."""
    columns = []
    for number in range(len(pieces[0])):
        columns.append(np.concatenate([piece[number] for piece in pieces]))
        for piece in pieces:
            piece[number] = piece[number][:0]
    pieces.clear()
    return columns
