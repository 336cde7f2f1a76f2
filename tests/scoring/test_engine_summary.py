"""Collapsing identical customer summaries into weighted rows."""

import numpy as np
import pytest

from scoring.engine.summary import check_summaries, collapse


def test_collapsed_rows_give_back_every_customer_and_count_them() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, 5000).astype(np.float64)
    T = rng.integers(0, 60, 5000).astype(np.float64)
    t_x = np.floor(T * rng.random(5000))
    grouped = collapse(x, t_x, T)
    assert grouped.weights.sum() == 5000
    for distinct, original in zip(grouped.columns, (x, t_x, T), strict=True):
        assert np.array_equal(distinct[grouped.inverse], original)
    assert grouped.size == np.unique(np.column_stack([x, t_x, T]), axis=0).shape[0]


def test_fractional_weeks_collapse_exactly_like_whole_days() -> None:
    rng = np.random.default_rng(2)
    days = rng.integers(0, 400, 3000).astype(np.float64)
    x = rng.integers(0, 3, 3000).astype(np.float64)
    in_days, in_weeks = collapse(x, days), collapse(x, days / 7)
    assert in_days.size == in_weeks.size
    assert np.array_equal(in_weeks.columns[1][in_weeks.inverse], days / 7)


def test_an_empty_base_collapses_to_nothing() -> None:
    grouped = collapse(np.zeros(0), np.zeros(0))
    assert grouped.size == 0 and grouped.inverse.size == 0


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [([1.0], [5.0], [4.0]), ([-1.0], [0.0], [4.0]), ([1.0], [np.nan], [4.0]), ([1.0, 2.0], [1.0], [4.0])],
)
def test_impossible_summaries_are_refused(x: list[float], t_x: list[float], T: list[float]) -> None:
    with pytest.raises(ValueError):
        check_summaries(np.array(x), np.array(t_x), np.array(T))
