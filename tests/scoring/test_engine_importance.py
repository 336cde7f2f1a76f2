"""Importance percentiles, tiers and the one-line explanation."""

import numpy as np
import pytest

from scoring.engine.importance import Phrases, TierThresholds, explanation, importance, tiers, top_share


def test_importance_is_the_mid_rank_percentile_of_predicted_plus_realised_value() -> None:
    scores = importance(np.arange(100, dtype=np.float64), np.zeros(100))
    # The k-th of 100 (from 1) has k − 1 below it and itself half: 100·(k − 0.5)/100, rounded half up.
    assert scores[0] == 1 and scores[49] == 50 and scores[-1] == 100


def test_realised_value_counts_as_much_as_predicted_value() -> None:
    scores = importance(np.array([0.0, 100.0, 50.0]), np.array([100.0, 0.0, 0.0]))
    assert scores[0] == scores[1] > scores[2]


def test_equal_worth_gives_equal_importance() -> None:
    assert len(set(importance(np.full(30, 7.0), np.zeros(30)).tolist())) == 1


def test_tiers_follow_the_owners_thresholds() -> None:
    scores = np.array([99, 95, 85, 60, 10])
    assert tiers(scores).tolist() == ["vip", "vip", "high", "medium", "low"]
    assert tiers(scores, TierThresholds(vip=99, high=90, medium=20)).tolist() == [
        "vip",
        "high",
        "medium",
        "medium",
        "low",
    ]


def test_thresholds_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError):
        TierThresholds(vip=50, high=80, medium=20)


def test_top_share_never_says_top_zero_percent() -> None:
    assert (top_share(97), top_share(100), top_share(0)) == (3, 1, 100)


def test_the_explanation_reads_as_one_english_line() -> None:
    line = explanation(
        importance=97, transactions=14, clv=48200.0, churn_risk=0.62, format_money=lambda v: f"{v:,.0f} ₽"
    )
    assert line == "Top 3% · 14 orders · predicted 48,200 ₽ next 12 months · churn risk 62%"


def test_without_the_model_the_explanation_says_so() -> None:
    line = explanation(importance=40, transactions=1, clv=None, churn_risk=None)
    assert line == "Top 60% · 1 order · model not fitted: RF scores only"


def test_the_django_layer_can_put_its_own_words_in() -> None:
    russian = Phrases(
        top=lambda share: f"Топ {share}%",
        transactions=lambda count: f"{count} заказов",
        predicted=lambda money: f"прогноз {money} за 12 мес.",
        churn=lambda percent: f"риск ухода {percent}%",
    )
    line = explanation(importance=90, transactions=5, clv=1000.0, churn_risk=0.1, phrases=russian)
    assert line == "Топ 10% · 5 заказов · прогноз 1,000 за 12 мес. · риск ухода 10%"
