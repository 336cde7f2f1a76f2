"""Writing scores and monthly snapshots.

A full run on PostgreSQL builds a fresh score table by binary COPY, indexes it, and swaps it for the live one in
the run's transaction: no million-row upsert, no dead tuples, no index maintained row by row, and readers see the
old scores until the commit. The month's snapshot is written beside it (:class:`MonthSnapshot`). A changed
order's rescore is one upsert statement.
"""

from __future__ import annotations

import io
import json
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg2
from django.db import connection
from django.utils import timezone
from psycopg2.extras import execute_values

from scoring.models import CustomerScore, ScoreSnapshot
from scoring.pgcopy import Categorical, Column, Stream, decode, encode
from scoring.scorer import Scored
from scoring.statistics import EPOCH

FIELDS = [f.attname for f in CustomerScore._meta.concrete_fields]
TABLE = CustomerScore._meta.db_table
FRESH = f"{TABLE}_fresh"
# The columns whose planner statistics a run refreshes itself (see build_fresh).
ANALYZED = ("customer_id", "importance", "tier", "segment", "churn_risk", "predicted_clv", "updated_at")
SNAPSHOT_FIELDS = ("importance", "tier", "segment", "churn_risk", "predicted_clv")


def columns(scored: Scored, run_id: int | None, now: datetime) -> dict[str, Any]:
    """The score table's columns: arrays (NaN for NULL), categoricals for text and JSON, scalars for constants."""
    stats, fig = scored.stats, scored.figures
    return {
        "customer_id": stats.customer_id,
        "run_id": run_id,
        "first_purchase": stats.first_day.astype(np.int64),
        "last_purchase": stats.last_day.astype(np.int64),
        "transactions": stats.days.astype(np.int64),
        "recency_days": (scored.today - stats.last_day).astype(np.int64),
        "tenure_days": (scored.today - stats.first_day).astype(np.int64),
        "total_value": stats.total,
        "average_value": stats.total / stats.days,
        "r_score": scored.r,
        "f_score": scored.f,
        "m_score": scored.m,
        "segment": scored.segment,
        "p_alive": fig.get("p_alive"),
        "expected_30": fig.get("expected_30"),
        "expected_90": fig.get("expected_90"),
        "expected_365": fig.get("expected_365"),
        "expected_value": fig.get("expected_value"),
        "predicted_clv": fig.get("clv"),
        "model_churn_risk": fig.get("model_churn"),
        "churn_risk": scored.churn,
        "churn_reasons": scored.reasons,
        "previous_churn_risk": stats.previous_churn,
        "importance": scored.importance,
        "tier": scored.tiers,
        "at_risk_valuable": scored.at_risk_valuable,
        "updated_at": now,
    }


def write_scores(
    data: dict[str, Any], *, replace_all: bool, since: datetime | None = None, durable: bool = True
) -> None:
    """Write scored rows: a full run replaces the table (customers without a delivered order lose their score);
    otherwise the given customers are upserted."""
    if replace_all:
        replace_postgres(data, since=since or timezone.now())
    else:
        upsert_postgres(data, durable=durable)


def python_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The same columns as Python values, one dict per row (the few rows of a rescore)."""
    size = int(np.size(data["customer_id"]))
    fields = {f.attname: f for f in CustomerScore._meta.concrete_fields}
    converted: dict[str, list[Any]] = {}
    for name in FIELDS:
        values, kind = data[name], fields[name].get_internal_type()
        if isinstance(values, Categorical):
            converted[name] = [values.labels[code] for code in values.codes.tolist()]
        elif values is None or np.ndim(values) == 0:
            converted[name] = [values] * size
        elif kind == "DateField":
            converted[name] = [EPOCH + timedelta(days=day) for day in values.tolist()]
        elif kind == "DecimalField":
            converted[name] = [None if v != v else Decimal(f"{v:.2f}") for v in values.tolist()]
        elif kind == "FloatField":
            converted[name] = [None if v != v else v for v in values.tolist()]
        else:
            converted[name] = values.tolist()
    return [{name: converted[name][i] for name in FIELDS} for i in range(size)]


def _copy_columns(data: dict[str, Any]) -> list[Column]:
    fields = {f.attname: f for f in CustomerScore._meta.concrete_fields}
    return [Column(str(fields[name].db_type(connection)), data[name]) for name in FIELDS]


def upsert_postgres(data: dict[str, Any], *, durable: bool = True) -> None:
    """A few rows in one INSERT … ON CONFLICT statement. Not ``durable``: the transaction's commit will not wait
    for the disk (``SET LOCAL synchronous_commit``, sent with the statement to spare a round trip)."""
    rows = python_rows(data)
    if not rows:
        return
    names = ", ".join(FIELDS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in FIELDS[1:])
    template = "(" + ", ".join("%s::jsonb" if name == "churn_reasons" else "%s" for name in FIELDS) + ")"
    values = [tuple(_json(row[name]) if name == "churn_reasons" else row[name] for name in FIELDS) for row in rows]
    upsert = f"INSERT INTO {TABLE} ({names}) VALUES %s ON CONFLICT (customer_id) DO UPDATE SET {updates}"  # noqa: S608
    with connection.cursor() as cursor:
        prefix = "" if durable else "SET LOCAL synchronous_commit TO OFF; "
        execute_values(cursor.cursor, prefix + upsert, values, template=template)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def replace_postgres(data: dict[str, Any], *, since: datetime) -> int:
    """Build the fresh table and swap it in (see :func:`build_fresh` and :func:`swap_fresh`). Returns the rows
    carried over."""
    build_fresh(data)
    return swap_fresh(since=since)


def build_fresh(data: dict[str, Any]) -> None:
    """Fill a fresh score table by binary COPY and give it the live table's indexes and key. Must run inside the
    run's transaction; nobody else sees the fresh table, and the live one stays readable and writable. Its foreign
    keys come at the swap (:func:`swap_fresh`)."""
    size = int(np.size(data["customer_id"]))
    names = ", ".join(FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FRESH}")
        cursor.execute(f"CREATE TABLE {FRESH} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        # FREEZE (allowed into a table created in this transaction, which nobody else sees before the commit)
        # writes the rows frozen and the pages marked all-visible. Without it the first scan after the commit,
        # the next run's read of last month's churn risks, set a hint bit on each of a million rows and so wrote
        # the whole table out a second time (192 MB on a million customers), and the list's indexes could not
        # answer from the index alone until a vacuum came round.
        cursor.copy_expert(
            f"COPY {FRESH} ({names}) FROM STDIN (FORMAT binary, FREEZE)",
            Stream(encode(_copy_columns(data), size, segment_order(data, cursor))),
            1 << 20,
        )
        _copy_indexes(cursor)
        # Planner statistics come with the table: without them the list's first queries after a run would be
        # planned blind until autovacuum gets round to it. Only the columns the list and the reports filter, sort
        # and join on: the other twenty cost ANALYZE half its time (a third of the write on 100,000 customers).
        # A column list leaves the table's count of changes as it is, so autovacuum's own ANALYZE of every column
        # follows within a minute or so.
        cursor.execute(f"ANALYZE {FRESH} ({', '.join(ANALYZED)})")


def segment_order(data: dict[str, Any], cursor: Any) -> np.ndarray:
    """The rows in the order of the segment index's key (segment, importance, customer), the segment names ranked
    by the database's collation and NULLs last, as the index sorts them. Written in that order, the rows reach the
    index build already sorted, which it notices in one pass: building that index took 1.63 s of CPU from rows
    grouped by layout, 0.52 s from rows in this order, on a million customers."""
    size = int(np.size(data["customer_id"]))
    segment, importance = data["segment"], data["importance"]
    if not isinstance(segment, Categorical) or np.ndim(importance) == 0:
        return np.arange(size)
    names = [None if label is None else str(label) for label in segment.labels]
    cursor.execute(
        "SELECT ordinality - 1 FROM unnest(%s::text[]) WITH ORDINALITY AS label (name, ordinality)"
        " ORDER BY name NULLS LAST",
        [names],
    )
    ranks = np.empty(len(names), dtype=np.int64)
    ranks[[position for (position,) in cursor.fetchall()]] = np.arange(len(names))
    # Equal names get equal ranks: their codes must not split a segment.
    for position, name in enumerate(names):
        ranks[position] = ranks[names.index(name)]
    ids, importance, segments = np.asarray(data["customer_id"]), np.asarray(importance), ranks[segment.codes]
    if (
        np.issubdtype(importance.dtype, np.integer)
        and size
        and importance.min() >= 0
        and (int(segments.max()) + 1) * (int(importance.max()) + 1) <= 1 << 16
        and np.all(ids[1:] > ids[:-1])
    ):
        # The usual case: customers already in order, and segment and importance fit one 16-bit key, which a
        # stable sort orders in one counting pass (a third of a second less than the three-key sort).
        key = (segments * (int(importance.max()) + 1) + importance).astype(np.uint16)
        return np.argsort(key, kind="stable").astype(np.int64)
    return np.lexsort((ids, importance.astype(np.float64), segments)).astype(np.int64)


def swap_fresh(*, since: datetime) -> int:
    """Carry over rows a changed order rescored after ``since`` (when the run read the statistics) and put the
    fresh table in the live one's place, with its names. Writers wait from here to the commit, readers only from
    the DROP to the commit: the caller commits right after. Returns the rows carried over.

    The foreign keys are added here, last: adding one locks the referenced table (customers, scoring runs) against
    writes until the commit, which is a moment from here and would be the whole write and snapshot earlier."""
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
        carried = _carry_over(cursor, since)
        _copy_foreign_keys(cursor)
        cursor.execute(f"DROP TABLE {TABLE}")
        cursor.execute(f"ALTER TABLE {FRESH} RENAME TO {TABLE}")
        for statement in _RENAMES:
            cursor.execute(statement)
    return carried


_RENAMES: list[str] = []


def _copy_indexes(cursor: Any) -> None:
    """Create the live table's indexes and primary key on the fresh table under temporary names, and keep the
    statements that give them the live names after the swap."""
    renames = _RENAMES
    renames.clear()
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(x.indexrelid), c.conname, c.contype
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
         WHERE x.indrelid = %s::regclass
        """,
        [TABLE],
    )
    for index, definition, constraint, kind in cursor.fetchall():
        temporary = f"{index[:50]}_fresh"
        if constraint is not None and kind in ("p", "u"):
            columns = definition[definition.index(" USING btree ") + len(" USING btree ") :]
            keyword = "PRIMARY KEY" if kind == "p" else "UNIQUE"
            cursor.execute(f"ALTER TABLE {FRESH} ADD CONSTRAINT {temporary} {keyword} {columns}")
            renames.append(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {temporary} TO {constraint}")
        else:
            head, using = definition.split(" USING ", 1)
            unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
            cursor.execute(f"CREATE {unique}INDEX {temporary} ON {FRESH} USING {using}")
            renames.append(f"ALTER INDEX {temporary} RENAME TO {index}")


def _copy_foreign_keys(cursor: Any) -> None:
    """Create the live table's foreign keys on the fresh table under temporary names (renamed after the swap)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    for constraint, definition in cursor.fetchall():
        temporary = f"{constraint[:50]}_fresh"
        # NOT VALID skips re-checking a million rows that hold by construction: every customer id came from an
        # order (whose own key is checked) in this transaction, and the run id is the run's. New rows are checked.
        cursor.execute(f"ALTER TABLE {FRESH} ADD CONSTRAINT {temporary} {definition} NOT VALID")
        _RENAMES.append(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {temporary} TO {constraint}")


def _carry_over(cursor: Any, since: datetime) -> int:
    """Rows a changed order rescored while the run computed are newer than the run's: keep them. One pass over
    the live table, a fraction of a second on a million rows."""
    names = ", ".join(FIELDS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in FIELDS[1:])
    cursor.execute(
        f"INSERT INTO {FRESH} ({names}) SELECT {names} FROM {TABLE} WHERE updated_at > %s "  # noqa: S608
        f"ON CONFLICT (customer_id) DO UPDATE SET {updates}",
        [since],
    )
    return int(cursor.rowcount)


class MonthSnapshot:
    """This month's snapshot on PostgreSQL, written on a connection of its own while the run builds the fresh score
    table, and committed right after the run's own commit (or rolled back with it).

    The month's first run writes every customer's row; a later run only the rows of customers who have none for
    the month yet (scored for the first time since), so a month's point is the score as the month began. The
    rows go in by binary COPY straight from the scored columns. Side by side with the fresh table's COPY and
    indexes, the million inserts of a month's first run cost the run next to nothing on two cores; they cost
    4.6 s one after the other. Were the process to die between the two commits, the month would lack those rows
    and the next run would add them: the scores, which are committed first, are never ahead of nothing."""

    FIELDS = ("customer_id", "month", "run_id", *SNAPSHOT_FIELDS)

    def __init__(self, data: dict[str, Any], *, month: date, run_id: int) -> None:
        self.written = 0
        fields = {f.attname: f for f in ScoreSnapshot._meta.concrete_fields}
        types = [str(fields[name].db_type(connection)) for name in self.FIELDS]
        self._job = (data, types, month, run_id)
        self._connection: Any = None
        self._future: Future[None] | None = None
        # Inside an outer transaction (a caller's ``atomic``, a test) another connection could neither see its rows
        # nor be rolled back with it: the rows then go in on this connection when the run waits for them.
        if not connection.in_atomic_block:
            self._connection = psycopg2.connect(**connection.get_connection_params())
            self._pool = ThreadPoolExecutor(max_workers=1)
            self._future = self._pool.submit(self._write_own)

    def _write_own(self) -> None:
        with self._connection.cursor() as cursor:
            self._write(cursor, *self._job)

    def _write(self, cursor: Any, data: dict[str, Any], types: list[str], month: date, run_id: int) -> None:
        table = ScoreSnapshot._meta.db_table
        month_rows = cursor.mogrify(f"SELECT customer_id FROM {table} WHERE month = %s", [month]).decode()  # noqa: S608
        buffer = io.BytesIO()
        cursor.copy_expert(f"COPY ({month_rows}) TO STDOUT (FORMAT binary)", buffer)
        (present,) = decode(buffer.getbuffer(), ["int8"])
        ids = np.asarray(data["customer_id"])
        rows = np.flatnonzero(~np.isin(ids, present)) if present.size else np.arange(ids.size)
        values = {**data, "month": (month - EPOCH).days, "run_id": run_id}
        columns = [Column(kind, _rows(values[name], rows)) for kind, name in zip(types, self.FIELDS, strict=True)]
        cursor.copy_expert(
            f"COPY {table} ({', '.join(self.FIELDS)}) FROM STDIN (FORMAT binary)",
            Stream(encode(columns, int(rows.size))),
            1 << 20,
        )
        self.written = int(rows.size)

    def wait(self) -> int:
        """Wait for the rows to be written (not committed); returns how many."""
        if self._future is None:
            with connection.cursor() as cursor:
                self._write(cursor, *self._job)
        else:
            self._future.result()
        self._job = None  # type: ignore[assignment]
        return self.written

    def commit(self) -> None:
        if self._future is None:
            return
        try:
            self._future.result()
            self._connection.commit()
        finally:
            self._close()

    def abandon(self) -> None:
        """Roll the rows back (the run failed), once the writer has stopped."""
        if self._future is None:
            return
        try:
            self._future.exception()
            self._connection.rollback()
        finally:
            self._close()

    def _close(self) -> None:
        self._pool.shutdown()
        self._connection.close()


def _rows(values: Any, rows: np.ndarray) -> Any:
    """Some rows of a column (a constant stays a constant)."""
    if isinstance(values, Categorical):
        return Categorical(values.codes[rows], values.labels)
    if values is None or np.ndim(values) == 0 or isinstance(values, datetime):
        return values
    return np.asarray(values)[rows]
