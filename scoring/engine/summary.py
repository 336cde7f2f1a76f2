"""Collapsing identical customer summaries into weighted rows, and checking the arrays the engine is given.

A million customers have far fewer distinct (x, t_x, T) summaries than customers when time is counted in whole
days, and the BG/NBD likelihood (Fader, Hardie & Lee 2005, eq. 6) of identical summaries is identical, so the fit
runs on the distinct rows with their counts as weights; the predictions that depend only on (x, T) are computed
once per distinct pair and spread back with the inverse index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Index = NDArray[np.int64]

# Mixed-radix keys must stay below 2**62 so that int64 arithmetic cannot wrap around.
_KEY_LIMIT = 2**62


@dataclass(frozen=True)
class Collapsed:
    """Distinct rows of the columns, how many customers each stands for, and for each customer its row."""

    columns: tuple[Array, ...]
    weights: Array
    inverse: Index

    @property
    def size(self) -> int:
        return int(self.weights.size)


def codes(column: NDArray[np.float64] | NDArray[np.int64]) -> tuple[Index, int]:
    """Integer codes 0..k−1 that sort like the column, and k, the number of distinct values.

    Whole numbers (days, counts, keys) within a modest range are coded by offset and counting, with no sort;
    anything else by one argsort."""
    if column.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    low, high = column.min(), column.max()
    if high - low < 4 * column.size + 1024 and np.all(column == np.floor(column)):
        offsets = (column - low).astype(np.int64)
        present = np.bincount(offsets) > 0
        if present.all():
            return offsets, int(present.size)
        return (np.cumsum(present) - 1)[offsets], int(present.sum())
    order = np.argsort(column)
    ordered = column[order]
    starts = np.empty(column.size, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    result = np.empty(column.size, dtype=np.int64)
    result[order] = np.cumsum(starts) - 1
    return result, int(starts.sum())


def collapse(*columns: Array) -> Collapsed:
    """Group customers with identical values in every column (e.g. x, t_x, T), keeping a count per group.

    ``columns[k][inverse]`` gives back the original column. Each column is coded to small integers and the codes
    are combined into one int64 key (recoded to its ranks whenever the next column would overflow it), and the
    key is coded once more: by counting when its range is small, by one argsort otherwise. ``np.unique`` with
    ``return_inverse`` sorts stably and is several times slower on a million rows."""
    if not columns:
        raise ValueError("collapse needs at least one column")
    size = np.shape(columns[0])[0] if np.ndim(columns[0]) == 1 else -1
    if size < 0 or any(np.shape(column) != (size,) for column in columns):
        raise ValueError("collapse needs one-dimensional columns of the same length")
    if size == 0:
        return Collapsed(tuple(np.zeros(0) for _ in columns), np.zeros(0), np.zeros(0, dtype=np.int64))
    key = np.zeros(size, dtype=np.int64)
    span = 1
    for column in columns:
        column_codes, radix = codes(np.asarray(column, dtype=np.float64))
        if span * radix >= _KEY_LIMIT:
            key, span = codes(key)
        key = key * radix + column_codes
        span *= radix
    inverse, groups = codes(key)
    weights = np.bincount(inverse, minlength=groups).astype(np.float64)
    # Any row of a group represents it: its rows are identical in every column.
    representative = np.empty(groups, dtype=np.int64)
    representative[inverse] = np.arange(size)
    return Collapsed(
        columns=tuple(np.asarray(column, dtype=np.float64)[representative] for column in columns),
        weights=weights,
        inverse=inverse,
    )


def check_summaries(x: Array, t_x: Array, T: Array, weights: Array | None = None) -> Array:
    """Raise ``ValueError`` for summaries no customer can have; return the weights (ones when not given).

    The likelihood is silently wrong rather than failing on such rows (a negative age, a last purchase after the
    end of the period), so they are refused at the door."""
    size = x.size
    if not (x.shape == t_x.shape == T.shape == (size,)):
        raise ValueError("x, t_x and T must be one-dimensional arrays of the same length")
    weights = np.ones(size) if weights is None else np.asarray(weights, dtype=np.float64)
    if weights.shape != (size,):
        raise ValueError("weights must have one entry per row")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))):
        raise ValueError("x, t_x and T must be finite")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T) or np.any(weights < 0):
        raise ValueError("need x ≥ 0, 0 ≤ t_x ≤ T and non-negative weights")
    return weights
