"""PostgreSQL's binary COPY format, written and read with numpy: a million rows without a Python loop per row.

The format (PostgreSQL manual, "COPY", "Binary Format"): a 19-byte header, then per row a 16-bit field count and
per field a 32-bit length (−1 for NULL) followed by the value in the type's binary "send" form, big-endian; a
16-bit −1 ends the stream. When every field of a row has a fixed width the rows are records of one numpy dtype,
so a column of a million values is written by one array assignment. Text and JSON values vary in length; rows
are therefore grouped by the byte lengths of their variable fields (a handful of groups: eleven segment names,
four tiers, the usual empty list of reasons) and each group is one record array. Row order does not matter to a
table's contents, but it does to the index builds that read it next: given an order, the rows are written in it,
each group's records encoded at once and then cut into the runs of consecutive rows that share its layout.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring.engine.summary import collapse

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH_DAYS = (date(2000, 1, 1) - date(1970, 1, 1)).days
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
# numeric(14, 2) as four base-10000 digits with weight 2: 10^12 > any amount the column can hold. PostgreSQL
# strips the leading zero digits on receipt (numeric_recv → make_result).
NUMERIC_DIGITS = 4
MONEY_LIMIT = 10**12
# Rows per piece of an encoded stream (about 8 MB of a score row's width).
PIECE_ROWS = 32768

_FIXED = {
    "bigint": (">i8", 8),
    "integer": (">i4", 4),
    "smallint": (">i2", 2),
    "boolean": ("u1", 1),
    "double precision": (">f8", 8),
    "date": (">i4", 4),
    "timestamp with time zone": (">i8", 8),
}


@dataclass(frozen=True)
class Categorical:
    """A text or JSON column as codes into a short table of values (None is NULL): segment names, tiers, and the
    reasons list that is empty for nearly everyone and spelled out for the few who have one."""

    codes: NDArray[np.int64]
    labels: Sequence[Any]


@dataclass(frozen=True)
class Column:
    """One column to write: its PostgreSQL type and values. Numbers are numpy arrays or one scalar for every row
    (NaN is NULL for floats and money; ``null`` marks NULL for other types; ``None`` is NULL everywhere); dates are
    days since 1970-01-01; a timestamp is one datetime for every row; text and JSON are a :class:`Categorical` or
    one value for every row."""

    db_type: str
    values: Any
    null: NDArray[np.bool_] | None = None

    @property
    def variable(self) -> bool:
        return self.db_type.startswith(("varchar", "text", "jsonb"))

    def categorical(self, size: int) -> Categorical:
        if isinstance(self.values, Categorical):
            return self.values
        return Categorical(np.zeros(size, dtype=np.int64), [self.values])

    def lengths(self, size: int, table: NDArray[Any] | None = None) -> NDArray[np.int32]:
        """Each row's field length, −1 for NULL (``table``: the encoded values of a text or JSON column)."""
        if self.variable:
            assert table is not None
            widths = np.array([-1 if b is None else len(b) for b in table], dtype=np.int32)
            return widths[self.categorical(size).codes]
        if self.db_type.startswith("numeric"):
            width = 8 + 2 * NUMERIC_DIGITS
        elif self.db_type in _FIXED:
            width = _FIXED[self.db_type][1]
        else:
            raise ValueError(f"no binary COPY writer for {self.db_type}")
        return np.where(self.nulls(size), -1, width).astype(np.int32)

    def nulls(self, size: int) -> NDArray[np.bool_]:
        if self.values is None:
            return np.ones(size, dtype=bool)
        if self.null is not None:
            return np.broadcast_to(self.null, (size,))
        if self.db_type.startswith("numeric") or self.db_type == "double precision":
            return np.broadcast_to(np.isnan(np.asarray(self.values, dtype=np.float64)), (size,))
        return np.zeros(size, dtype=bool)

    def pick(self, rows: NDArray[np.int64]) -> Any:
        """The values of some rows (a scalar stays a scalar)."""
        if np.ndim(self.values) == 0 or isinstance(self.values, datetime):
            return self.values
        return np.asarray(self.values)[rows]


def _table_bytes(kind: str, table: Categorical) -> list[bytes | None]:
    return [_text_bytes(kind, value) for value in table.labels]


def _text_bytes(kind: str, value: Any) -> bytes | None:
    if value is None:
        return None
    if kind.startswith("jsonb"):
        return b"\x01" + json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


def _numeric_digits(values: NDArray[np.float64]) -> tuple[NDArray[np.int16], NDArray[np.int16]]:
    """Sign words and base-10000 digits (rows × 4) of amounts rounded to cents."""
    cents = np.round(np.nan_to_num(np.asarray(values, dtype=np.float64)) * 100.0).astype(np.int64)
    if np.any(np.abs(cents) >= MONEY_LIMIT * 100):
        raise ValueError("an amount does not fit numeric(14, 2)")
    sign = np.where(cents < 0, 0x4000, 0).astype(np.int16)
    units, fraction = np.divmod(np.abs(cents), 100)
    digits = np.column_stack([units // 10**8, (units // 10**4) % 10**4, units % 10**4, fraction * 100])
    return sign, digits.astype(np.int16)


def encode(columns: Sequence[Column], size: int, order: NDArray[np.int64] | None = None) -> Iterator[bytes]:
    """The binary COPY stream of ``size`` rows, in pieces: with ``order`` (a permutation of the rows) the rows in
    that order, else grouped by layout."""
    yield HEADER
    if size:
        tables = [
            np.array(_table_bytes(c.db_type, c.categorical(size)), dtype=object) if c.variable else None
            for c in columns
        ]
        lengths = [column.lengths(size, table) for column, table in zip(columns, tables, strict=True)]
        varying = [widths.astype(np.float64) for widths in lengths if np.any(widths != widths[0])]
        group = collapse(*varying).inverse if varying else np.zeros(size, dtype=np.int64)
        if order is not None:
            if order.shape != (size,):
                raise ValueError("the order is not one position per row")
            # Pieces of a bounded size: PostgreSQL parses one while the next is encoded, where one piece of most
            # of a million rows kept it waiting for the whole encoding first.
            for start in range(0, size, PIECE_ROWS):
                rows = order[start : start + PIECE_ROWS]
                yield _encode_in_order(columns, tables, lengths, group[rows], rows, size)
        else:
            groups = int(group.max()) + 1
            by_group = np.argsort(group.astype(np.int32), kind="stable")
            bounds = np.searchsorted(group[by_group], np.arange(groups + 1))
            for index in range(groups):
                rows = by_group[bounds[index] : bounds[index + 1]]
                layout = [int(widths[rows[0]]) for widths in lengths]
                for start in range(0, rows.size, PIECE_ROWS):
                    yield _encode_group(columns, tables, layout, rows[start : start + PIECE_ROWS], size)
    yield TRAILER


def _encode_in_order(
    columns: Sequence[Column],
    tables: list[NDArray[Any] | None],
    lengths: list[NDArray[np.int32]],
    groups: NDArray[np.int64],
    rows: NDArray[np.int64],
    size: int,
) -> bytes:
    """The rows in the given order: each layout's rows encoded as one record array (in that order), then the runs
    of consecutive rows of one layout cut from them and joined (a run per change of layout, not a call per row)."""
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    ends = np.concatenate([starts[1:], [rows.size]])
    # Each row's place among its layout's rows, and each layout's records.
    within = np.empty(rows.size, dtype=np.int64)
    encoded: dict[int, tuple[memoryview, int]] = {}
    for layout_group in np.unique(groups).tolist():
        members = np.flatnonzero(groups == layout_group)
        within[members] = np.arange(members.size)
        layout = [int(widths[rows[members[0]]]) for widths in lengths]
        encoding = _encode_group(columns, tables, layout, rows[members], size)
        encoded[layout_group] = (memoryview(encoding), len(encoding) // members.size)
    pieces = []
    for start, end, layout_group, first in zip(
        starts.tolist(), ends.tolist(), groups[starts].tolist(), within[starts].tolist(), strict=True
    ):
        view, width = encoded[layout_group]
        pieces.append(view[first * width : (first + end - start) * width])
    return b"".join(pieces)


def _encode_group(
    columns: Sequence[Column],
    tables: list[NDArray[Any] | None],
    layout: list[int],
    rows: NDArray[np.int64],
    size: int,
) -> bytes:
    fields: list[Any] = [("count", ">i2")]
    for number, (column, length) in enumerate(zip(columns, layout, strict=True)):
        fields.append((f"l{number}", ">i4"))
        if length < 0:
            continue
        if column.db_type.startswith("numeric"):
            fields += [(f"h{number}", ">i2", (4,)), (f"d{number}", ">i2", (NUMERIC_DIGITS,))]
        elif column.variable:
            fields.append((f"v{number}", f"S{length}"))
        else:
            fields.append((f"v{number}", _FIXED[column.db_type][0]))
    # Not zeroed first: the dtype is packed and every field of it is assigned below.
    records = np.empty(rows.size, dtype=np.dtype(fields))
    records["count"] = len(columns)
    for number, (column, length) in enumerate(zip(columns, layout, strict=True)):
        records[f"l{number}"] = length
        if length < 0:
            continue
        if column.db_type.startswith("numeric"):
            sign, digits = _numeric_digits(np.broadcast_to(column.pick(rows), (rows.size,)))
            header = np.empty((rows.size, 4), dtype=np.int16)
            header[:] = (NUMERIC_DIGITS, NUMERIC_DIGITS - 2, 0, 2)  # digits, weight, sign, scale
            header[:, 2] = sign
            records[f"h{number}"] = header
            records[f"d{number}"] = digits
        elif column.variable:
            table = tables[number]
            assert table is not None
            records[f"v{number}"] = table[column.categorical(size).codes[rows]].astype(f"S{length}")
        else:
            records[f"v{number}"] = _fixed(column.db_type, column.pick(rows))
    return records.tobytes()


def _fixed(db_type: str, values: Any) -> Any:
    if db_type == "date":
        return np.asarray(values, dtype=np.int64) - PG_EPOCH_DAYS
    if db_type == "timestamp with time zone":
        if isinstance(values, datetime):
            return round((values.timestamp() - PG_EPOCH) * 1_000_000)
        raise ValueError("timestamps are written as one datetime for every row")
    if db_type == "double precision":
        return np.nan_to_num(np.asarray(values, dtype=np.float64))
    return values


class Stream(io.RawIOBase):
    """A file-like reader over the pieces of a COPY stream, for ``cursor.copy_expert`` without joining them."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._current:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._current = memoryview(piece)
        count = min(len(buffer), len(self._current))
        buffer[:count] = self._current[:count]
        self._current = self._current[count:]
        return count


def decode(data: bytes | memoryview, types: Sequence[str]) -> list[NDArray[Any]]:
    """Columns of a binary COPY of fixed-width, never-NULL fields (``types``: "int8" or "float8" per field)."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for number, kind in enumerate(types):
        fields += [(f"l{number}", ">i4"), (f"v{number}", ">i8" if kind == "int8" else ">f8")]
    dtype = np.dtype(fields)
    if bytes(data[:11]) != HEADER[:11]:
        raise ValueError("not a binary COPY stream")
    extension = int.from_bytes(bytes(data[15:19]), "big")
    body = memoryview(data)[19 + extension : len(data) - len(TRAILER)]
    if len(body) % dtype.itemsize:
        raise ValueError("a field was NULL or not of the expected width")
    records = np.frombuffer(body, dtype=dtype)
    widths = records[[f"l{number}" for number in range(len(types))]] if records.size else None
    if widths is not None and any(np.any(widths[f"l{n}"] != 8) for n in range(len(types))):
        raise ValueError("a field was NULL or not of the expected width")
    return [
        records[f"v{number}"].astype(np.int64 if kind == "int8" else np.float64) for number, kind in enumerate(types)
    ]


def decode_bytea(data: bytes | memoryview) -> memoryview:
    """The value of a binary COPY of one row of one bytea field (empty for NULL: an aggregate over no rows)."""
    if bytes(data[:11]) != HEADER[:11]:
        raise ValueError("not a binary COPY stream")
    extension = int.from_bytes(bytes(data[15:19]), "big")
    body = memoryview(data)[19 + extension : len(data) - len(TRAILER)]
    if int.from_bytes(body[:2], "big") != 1:
        raise ValueError("not one row of one field")
    length = int.from_bytes(body[2:6], "big", signed=True)
    if length < 0:
        return body[:0]
    if len(body) != 6 + length:
        raise ValueError("not one row of one field")
    return body[6:]
