"""Columns of numpy arrays into tables: COPY on PostgreSQL, ``bulk_create`` anywhere.

A table is written as a dict of column name → column. A column is a numpy array (``int64`` ids and counts,
``bool``, ``datetime64[us]`` in UTC with NaT for NULL, UTF-8 ``bytes``), :class:`Money` (kopecks) or
:class:`Nullable` around one of those, a Python scalar repeated on every row, or a function of the rows' new ids.
"""

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, models
from numpy.typing import NDArray

Ids = NDArray[np.int64]
ORM_BATCH = 2_000
NULL = b"\\N"
_CENTS = np.array([f".{i:02d}".encode() for i in range(100)], dtype=np.bytes_)
_SECONDS = np.array(
    [f" {h:02d}:{m:02d}:{s:02d}+00".encode() for h in range(24) for m in range(60) for s in range(60)], dtype=np.bytes_
)


@dataclass(frozen=True)
class Money:
    kopecks: NDArray[np.int64]


@dataclass(frozen=True)
class Nullable:
    values: "NDArray[Any] | Money"
    present: NDArray[np.bool_]


Column = NDArray[Any] | Money | Nullable | str | int | bool | None
Columns = dict[str, Column | Callable[[Ids], Column]]


def reserve_ids(model: type[models.Model], n: int) -> Ids:
    """``n`` primary keys for new rows of ``model`` that nothing else will be given.

    PostgreSQL hands them out from the table's own sequence, so concurrent writers are safe. SQLite has no
    sequence object; its demo settings open every transaction IMMEDIATE, so this transaction holds the write lock
    already and the ids after the highest ever used (``sqlite_sequence`` remembers deleted ones) are ours.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            buffer = io.BytesIO()
            # COPY takes no parameters: the sequence's name (from the catalogue) goes in as a quoted literal.
            quoted = "'" + sequence.replace("'", "''") + "'"
            cursor.copy_expert(
                f"COPY (SELECT nextval({quoted}::regclass) FROM generate_series(1, {int(n)})) TO STDOUT",  # noqa: S608
                buffer,
            )
            return np.array(buffer.getvalue().split(), dtype=np.int64)
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (model metadata)
            highest = cursor.fetchone()[0]
            cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
            highest = max(highest, cursor.fetchone()[0])
            return np.arange(highest + 1, highest + 1 + n, dtype=np.int64)
    raise NotImplementedError(f"seed_demo cannot reserve ids on {connection.vendor}")


def taken(model: type[models.Model], field: str, values: list[str]) -> set[str]:
    """Which of ``values`` the table already holds in ``field`` (a unique, indexed column)."""
    found: set[str] = set()
    # SQLite caps the parameters of one statement; PostgreSQL takes a chunk's worth as one array.
    step = 50_000 if connection.vendor == "postgresql" else 500
    for start in range(0, len(values), step):
        batch = values[start : start + step]
        found.update(model._default_manager.filter(**{f"{field}__in": batch}).values_list(field, flat=True))
    return found


class Writer:
    """Inserts ``n`` rows; with ``ids``, reserves their primary keys first and returns them in row order."""

    method = ""

    def __init__(self) -> None:
        self.rows_written = 0

    def write(self, model: type[models.Model], columns: Columns, n: int, *, ids: bool = False) -> Ids:
        keys = reserve_ids(model, n) if ids else np.zeros(0, dtype=np.int64)
        resolved: dict[str, Column] = {"id": keys} if ids else {}
        for name, column in columns.items():
            resolved[name] = column(keys) if callable(column) else column
        if n:
            self.insert(model, resolved, n)
        self.rows_written += n
        return keys

    def insert(self, model: type[models.Model], columns: dict[str, Column], n: int) -> None:
        raise NotImplementedError


class CopyWriter(Writer):
    """PostgreSQL: one COPY per table and chunk, in COPY's text format built column by column with numpy."""

    method = "copy"

    def insert(self, model: type[models.Model], columns: dict[str, Column], n: int) -> None:
        line: Any = b""
        for position, column in enumerate(columns.values()):
            text = _text(column)
            line = np.strings.add(line, text if position == 0 else np.strings.add(b"\t", text))
        rows = np.broadcast_to(np.strings.add(line, b"\n"), (n,))
        names = ", ".join(connection.ops.quote_name(name) for name in columns)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {model._meta.db_table} ({names}) FROM STDIN", io.BytesIO(b"".join(rows.tolist())))


class OrmWriter(Writer):
    """Any database: ``bulk_create`` in batches, with the reserved primary keys set on the objects."""

    method = "orm"

    def insert(self, model: type[models.Model], columns: dict[str, Column], n: int) -> None:
        values = {name: list(_python(column, n)) for name, column in columns.items()}
        names = list(values)
        objects = [model(**{name: values[name][i] for name in names}) for i in range(n)]
        model._default_manager.bulk_create(objects, batch_size=ORM_BATCH)


class InsertWriter(Writer):
    """Any database: plain multi-row INSERTs through ``executemany``, with values already in the form Django's
    backends store (text moments in UTC to the second, decimals as text). ``bulk_create`` prepares every value of
    every row through its field, which made the demo's 3,000 customers take 12 s instead of 2 s on SQLite."""

    method = "insert"

    def insert(self, model: type[models.Model], columns: dict[str, Column], n: int) -> None:
        names = list(columns)
        values = [list(_plain(columns[name], n)) for name in names]
        quoted = ", ".join(connection.ops.quote_name(name) for name in names)
        placeholders = ", ".join(["%s"] * len(names))
        # Table and column names come from the model's metadata, never from input.
        sql = f"INSERT INTO {model._meta.db_table} ({quoted}) VALUES ({placeholders})"  # noqa: S608
        with connection.cursor() as cursor:
            for start in range(0, n, 10_000):
                cursor.executemany(sql, list(zip(*(column[start : start + 10_000] for column in values), strict=True)))


def writer_for(method: str) -> Writer:
    """``copy`` (PostgreSQL only), ``insert`` or ``orm`` (``bulk_create``)."""
    return {"copy": CopyWriter, "insert": InsertWriter, "orm": OrmWriter}[method]()


def _text(column: Column) -> Any:
    """A column in COPY's text format: UTF-8 bytes, ``\\N`` for NULL. The demo's words hold no tab, newline or
    backslash, so nothing needs escaping."""
    if isinstance(column, Nullable):
        return np.where(column.present, _text(column.values), NULL)
    if isinstance(column, Money):
        kopecks = column.kopecks
        return np.strings.add((kopecks // 100).astype("S17"), _CENTS[kopecks % 100])
    if column is None:
        return NULL
    if isinstance(column, bool):
        return b"t" if column else b"f"
    if isinstance(column, int | str):
        return str(column).encode()
    if column.dtype == np.bool_:
        return np.where(column, b"t", b"f")
    if column.dtype.kind == "M":
        return _timestamps(column)
    if column.dtype.kind in "iu":
        return column.astype("S20")
    return column


def _timestamps(moments: NDArray[np.datetime64]) -> Any:
    """UTC moments to the second as ``YYYY-MM-DD HH:MM:SS+00``, through a table of the period's days and one of
    the day's seconds: numpy's own formatting costs ten times more."""
    missing = np.isnat(moments)
    seconds = np.where(missing, 0, moments.astype("datetime64[s]").astype(np.int64))
    day = seconds // 86_400
    first, last = (int(day.min()), int(day.max())) if day.size else (0, 0)
    days = np.datetime_as_string(np.arange(first, last + 1).astype("datetime64[D]")).astype("S10")
    text = np.strings.add(days[day - first], _SECONDS[seconds % 86_400])
    return np.where(missing, NULL, text)


def _plain(column: Column, n: int) -> Iterator[Any]:
    """A column as values a DB-API cursor binds the way Django's backends store them."""
    if isinstance(column, Nullable):
        for value, present in zip(_plain(column.values, n), column.present.tolist(), strict=True):
            yield value if present else None
        return
    if isinstance(column, Money):
        yield from (raw.decode() for raw in _text(column).tolist())
        return
    if isinstance(column, np.ndarray) and column.dtype.kind == "M":
        moments = column.astype("datetime64[s]")
        text = np.strings.replace(np.datetime_as_string(moments), "T", " ").tolist()
        yield from (None if missing else value for value, missing in zip(text, np.isnat(moments).tolist(), strict=True))
        return
    yield from _python(column, n)


def _python(column: Column, n: int) -> Iterator[Any]:
    """A column as the Python values model fields take: str, int, bool, Decimal, aware datetimes, None."""
    if isinstance(column, Nullable):
        for value, present in zip(_python(column.values, n), column.present.tolist(), strict=True):
            yield value if present else None
        return
    if isinstance(column, Money):
        for kopecks in column.kopecks.tolist():
            yield Decimal(kopecks).scaleb(-2)
        return
    if column is None or isinstance(column, int | str | bool):
        yield from (column for _ in range(n))
        return
    values: Any = column
    if values.dtype.kind == "M":
        for moment in values.astype("datetime64[us]").astype(datetime).tolist():
            yield None if moment is None else moment.replace(tzinfo=UTC)
        return
    if values.dtype.kind == "S":
        for raw in values.tolist():
            yield raw.decode()
        return
    yield from values.tolist()
