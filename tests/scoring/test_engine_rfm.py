"""RFM quintile scores and the RF segment map."""

import numpy as np
import pytest

from scoring.engine.rfm import (
    RF_MAP,
    SEGMENT_ADVICE,
    SEGMENT_LABELS,
    SEGMENTS,
    quintile_scores,
    rf_segments,
    rfm_scores,
    segment_map,
)


def test_a_dozen_distinct_customers_spread_over_all_five_scores_in_order() -> None:
    # 1 + ⌊5·k/12⌋ for the k = 0..11 customers below each one.
    scores = quintile_scores(np.arange(12, dtype=np.float64))
    assert scores.tolist() == [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5]


def test_scores_do_not_depend_on_the_order_of_the_rows() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 7, 200).astype(np.float64)
    order = rng.permutation(200)
    assert np.array_equal(quintile_scores(values)[order], quintile_scores(values[order]))


def test_a_base_where_most_customers_bought_once_keeps_them_all_at_frequency_one() -> None:
    values = np.array([1.0] * 70 + [2.0] * 20 + [5.0] * 10)
    scores = quintile_scores(values)
    # 70 customers below the two-timers: 1 + ⌊5·70/100⌋ = 4; 90 below the five-timers: 5.
    assert set(scores[:70]) == {1} and set(scores[70:90]) == {4} and set(scores[90:]) == {5}


def test_everybody_tied_scores_one() -> None:
    assert quintile_scores(np.full(50, 3.0)).tolist() == [1] * 50


def test_recency_scores_the_most_recent_highest() -> None:
    recency, frequency, monetary = rfm_scores(np.array([1.0, 400.0, 30.0]), np.ones(3), np.array([5.0, 1.0, 3.0]))
    assert recency[0] > recency[2] > recency[1]
    assert monetary[0] > monetary[2] > monetary[1]
    assert frequency.tolist() == [1, 1, 1]


def test_a_million_quintiles_are_balanced() -> None:
    values = np.random.default_rng(4).random(1_000_000)
    assert np.bincount(quintile_scores(values))[1:].tolist() == [200_000] * 5


def test_the_segment_map_names_all_25_cells_with_the_eleven_segments() -> None:
    assert len(RF_MAP) == 5 and all(len(row) == 5 for row in RF_MAP)
    assert {name for row in RF_MAP for name in row} == set(SEGMENTS)
    assert len(SEGMENTS) == 11 and set(SEGMENT_LABELS) == set(SEGMENTS) == set(SEGMENT_ADVICE)
    recency, frequency = np.repeat(np.arange(1, 6), 5), np.tile(np.arange(1, 6), 5)
    assert rf_segments(recency, frequency).tolist() == [name for row in RF_MAP for name in row]


@pytest.mark.parametrize(
    ("recency", "frequency", "segment"),
    [(5, 5, "champions"), (5, 1, "new"), (4, 1, "promising"), (1, 1, "lost"), (1, 5, "cant_lose"),
     (3, 3, "need_attention"), (2, 3, "at_risk"), (3, 5, "loyal"), (5, 3, "potential_loyalists"),
     (3, 1, "about_to_sleep"), (2, 2, "hibernating")],
)  # fmt: skip
def test_the_map_follows_the_common_rf_grid(recency: int, frequency: int, segment: str) -> None:
    assert rf_segments(np.array([recency]), np.array([frequency]))[0] == segment


def test_the_map_for_the_owners_page_starts_with_the_most_recent_row() -> None:
    rows = segment_map()
    assert [row["recency"] for row in rows] == [5, 4, 3, 2, 1]
    top_right = rows[0]["cells"][4]  # type: ignore[index]
    assert top_right["segment"] == "champions" and top_right["label"] == "Champions"


def test_scores_outside_one_to_five_are_refused() -> None:
    with pytest.raises(ValueError):
        rf_segments(np.array([0]), np.array([3]))
