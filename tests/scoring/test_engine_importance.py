"""Importance percentiles, the one tier rule, and where a customer stands."""

import numpy as np
import pytest

from scoring.engine.importance import TierThresholds, importance, standing


def test_importance_is_the_mid_rank_percentile_of_expected_future_value() -> None:
    scores = importance(np.arange(100, dtype=np.float64))
    # The k-th of 100 (from 1) has k − 1 below it and itself half: 100·(k − 0.5)/100, rounded half up.
    assert scores[0] == 1 and scores[49] == 50 and scores[-1] == 100


def test_equal_worth_gives_equal_importance() -> None:
    assert len(set(importance(np.full(30, 7.0)).tolist())) == 1


def test_tiers_follow_the_owners_thresholds() -> None:
    scores = np.array([99, 95, 85, 60, 10])
    assert [TierThresholds().tier_of(int(s)) for s in scores] == ["vip", "vip", "high", "medium", "low"]
    custom = TierThresholds(vip=99, high=90, medium=20)
    assert [custom.tier_of(int(s)) for s in scores] == ["vip", "high", "medium", "medium", "low"]


def test_tier_codes_of_arrays_agree_with_tier_of_each_score() -> None:
    thresholds = TierThresholds(vip=90, high=70, medium=30)
    scores = np.arange(0, 101)
    names = ("vip", "high", "medium", "low")
    assert [names[c] for c in thresholds.tier_codes(scores)] == [thresholds.tier_of(int(s)) for s in scores]


def test_importance_range_of_each_tier_tiles_zero_to_one_hundred() -> None:
    thresholds = TierThresholds(vip=90, high=70, medium=30)
    assert thresholds.importance_range("vip") == (90, None)
    assert thresholds.importance_range("high") == (70, 90)
    assert thresholds.importance_range("medium") == (30, 70)
    assert thresholds.importance_range("low") == (None, 30)


def test_thresholds_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError):
        TierThresholds(vip=50, high=80, medium=20)


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (97, ("top", 3)),
        (100, ("top", 1)),
        (50, ("top", 50)),
        (49, ("bottom", 49)),
        (10, ("bottom", 10)),
        (0, ("bottom", 1)),
    ],
)
def test_standing_reads_top_for_the_upper_half_and_bottom_for_the_lower(score: int, expected: tuple[str, int]) -> None:
    assert standing(score) == expected


def test_no_importance_ever_reads_above_fifty_percent_on_either_side() -> None:
    assert all(1 <= standing(score)[1] <= 50 for score in range(101))
