"""Columns of numpy arrays into tables with COPY.

A table is written as a dict of column name → column. A column is a numpy array (``int64`` ids and counts,
``bool``, ``datetime64[us]`` in UTC with NaT for NULL, UTF-8 ``bytes``), :class:`Money` (kopecks) or
:class:`Nullable` around one of those, a Python scalar repeated on every row, or a function of the rows' new ids.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, models
from numpy.typing import NDArray

Ids = NDArray[np.int64]
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
    """``n`` primary keys for new rows of ``model`` that nothing else will be given: PostgreSQL hands them out
    from the table's own sequence, so concurrent writers are safe."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
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


def taken(model: type[models.Model], field: str, values: list[str]) -> set[str]:
    """Which of ``values`` the table already holds in ``field`` (a unique, indexed column)."""
    found: set[str] = set()
    # Bounds one statement's size: a chunk's values take a few statements.
    step = 50_000
    for start in range(0, len(values), step):
        batch = values[start : start + step]
        found.update(model._default_manager.filter(**{f"{field}__in": batch}).values_list(field, flat=True))
    return found


class Writer:
    """Inserts ``n`` rows with one COPY per table and chunk, in COPY's text format built column by column with
    numpy; with ``ids``, reserves their primary keys first and returns them in row order."""

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
        line: Any = b""
        for position, column in enumerate(columns.values()):
            text = _text(column)
            line = np.strings.add(line, text if position == 0 else np.strings.add(b"\t", text))
        rows = np.broadcast_to(np.strings.add(line, b"\n"), (n,))
        names = ", ".join(connection.ops.quote_name(name) for name in columns)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {model._meta.db_table} ({names}) FROM STDIN", io.BytesIO(b"".join(rows.tolist())))


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
