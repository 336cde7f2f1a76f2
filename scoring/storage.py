"""Writing scores and monthly snapshots.

A full run on PostgreSQL builds a fresh score table by binary COPY, indexes it, and swaps it for the live one in
the run's transaction: no million-row upsert, no dead tuples, no index maintained row by row, and readers see the
old scores until the commit. A changed order's rescore is one upsert statement. Other databases (SQLite in
development) take the ORM path.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection
from django.utils import timezone
from psycopg2.extras import execute_values

from scoring.models import CustomerScore, ScoreSnapshot
from scoring.pgcopy import Categorical, Column, Stream, encode
from scoring.scorer import Scored
from scoring.statistics import EPOCH

FIELDS = [f.attname for f in CustomerScore._meta.concrete_fields]
TABLE = CustomerScore._meta.db_table
FRESH = f"{TABLE}_fresh"
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
        "churn_risk": scored.churn,
        "churn_reasons": scored.reasons,
        "previous_churn_risk": stats.previous_churn,
        "importance": scored.importance,
        "tier": scored.tiers,
        "updated_at": now,
    }


def write_scores(
    data: dict[str, Any], *, replace_all: bool, since: datetime | None = None, durable: bool = True
) -> None:
    """Write scored rows: a full run replaces the table (customers without a delivered order lose their score);
    otherwise the given customers are upserted. PostgreSQL in bulk, the ORM elsewhere."""
    if connection.vendor == "postgresql":
        if replace_all:
            replace_postgres(data, since=since or timezone.now())
        else:
            upsert_postgres(data, durable=durable)
        return
    objects = [CustomerScore(**row) for row in python_rows(data)]
    CustomerScore.objects.bulk_create(
        objects,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=[name.removesuffix("_id") if name == "run_id" else name for name in FIELDS[1:]],
    )
    if replace_all:
        CustomerScore.objects.exclude(customer_id__in=[o.customer_id for o in objects]).delete()


def python_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The same columns as Python values, one dict per row (the few rows of a rescore, or SQLite)."""
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
    """Fill a fresh score table by binary COPY and give it the live table's indexes and constraints. Must run
    inside the run's transaction; nobody else sees the fresh table, and the live one stays readable and writable."""
    size = int(np.size(data["customer_id"]))
    names = ", ".join(FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FRESH}")
        cursor.execute(f"CREATE TABLE {FRESH} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.copy_expert(
            f"COPY {FRESH} ({names}) FROM STDIN (FORMAT binary)", Stream(encode(_copy_columns(data), size)), 1 << 20
        )
        _copy_indexes_and_keys(cursor)
        # Planner statistics come with the table: without them the list's first queries after a run would be
        # planned blind until autovacuum gets round to it. ANALYZE samples 30,000 rows, well under a second.
        cursor.execute(f"ANALYZE {FRESH}")


def swap_fresh(*, since: datetime) -> int:
    """Carry over rows a changed order rescored after ``since`` (when the run read the statistics) and put the
    fresh table in the live one's place, with its names. Writers wait from here to the commit, readers only from
    the DROP to the commit: the caller commits right after. Returns the rows carried over."""
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
        carried = _carry_over(cursor, since)
        cursor.execute(f"DROP TABLE {TABLE}")
        cursor.execute(f"ALTER TABLE {FRESH} RENAME TO {TABLE}")
        for statement in _RENAMES:
            cursor.execute(statement)
    return carried


_RENAMES: list[str] = []


def _copy_indexes_and_keys(cursor: Any) -> None:
    """Create the live table's indexes, primary key and foreign keys on the fresh table under temporary names, and
    keep the statements that give them the live names after the swap."""
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
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    for constraint, definition in cursor.fetchall():
        temporary = f"{constraint[:50]}_fresh"
        # NOT VALID skips re-checking a million rows that hold by construction: every customer id came from an
        # order (whose own key is checked) in this transaction, and the run id is the run's. New rows are checked.
        cursor.execute(f"ALTER TABLE {FRESH} ADD CONSTRAINT {temporary} {definition} NOT VALID")
        renames.append(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {temporary} TO {constraint}")


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


def write_snapshots(*, month: date, run_id: int, source: str = TABLE) -> int:
    """This month's snapshot of every score, set-based: the month's first run inserts them; a later run updates
    only the rows whose figures changed as a person reads them (importance, tier, segment, churn risk in whole
    percent, CLV in whole currency units), so the nightly refit's tiny drifts do not rewrite a million rows.
    ``source`` is the score table to read (a full run reads its fresh table before the swap, so readers of the
    live one never wait for this step). Returns the rows written."""
    table = ScoreSnapshot._meta.db_table
    names = ", ".join(SNAPSHOT_FIELDS)
    if connection.vendor == "postgresql":
        changed = (
            "s.importance <> c.importance OR s.tier <> c.tier OR s.segment <> c.segment"
            " OR round(s.churn_risk * 100) IS DISTINCT FROM round(c.churn_risk * 100)"
            " OR round(s.predicted_clv) IS DISTINCT FROM round(c.predicted_clv)"
        )
        updates = ", ".join(f"{name} = c.{name}" for name in SNAPSHOT_FIELDS)
        with connection.cursor() as cursor:
            # Two set-based statements rather than one INSERT … ON CONFLICT: a speculative insert per customer costs
            # more than a join that touches only the rows that moved, and than an anti-join that inserts only the
            # month's missing rows (all of them in the month's first run, none later).
            cursor.execute(
                f"UPDATE {table} s SET run_id = %s, {updates} FROM {source} c "  # noqa: S608
                f"WHERE s.month = %s AND s.customer_id = c.customer_id AND ({changed})",
                [run_id, month],
            )
            written = int(cursor.rowcount)
            cursor.execute(
                f"INSERT INTO {table} (customer_id, month, run_id, {names}) "  # noqa: S608
                f"SELECT c.customer_id, %s, %s, {', '.join(f'c.{n}' for n in SNAPSHOT_FIELDS)} FROM {source} c "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} s WHERE s.month = %s AND s.customer_id = c.customer_id) "
                "ON CONFLICT (customer_id, month) DO NOTHING",
                [month, run_id, month],
            )
            return written + int(cursor.rowcount)
    rows = [
        ScoreSnapshot(
            customer_id=customer_id, month=month, run_id=run_id, **dict(zip(SNAPSHOT_FIELDS, rest, strict=True))
        )
        for customer_id, *rest in CustomerScore.objects.values_list("customer_id", *SNAPSHOT_FIELDS).iterator()
    ]
    ScoreSnapshot.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["customer", "month"],
        update_fields=["run", *SNAPSHOT_FIELDS],
    )
    return len(rows)
