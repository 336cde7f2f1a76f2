"""The scoring pages' reads: segment and tier aggregates on a small hand-made base, their cache, the fit check."""

from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone, translation

from scoring import selectors
from scoring.engine.bgnbd import BgNbdParams
from scoring.engine.fit_check import expected_customers
from scoring.engine.rfm import RF_MAP, SEGMENT_ADVICE
from scoring.models import ScoringRun, Segment, Tier
from scoring.services import scoring_settings_update
from tests.factories import CustomerScoreFactory

pytestmark = pytest.mark.django_db

PARAMS = {"r": 0.3, "alpha": 40.0, "a": 0.9, "b": 2.5}


def _succeeded_run(**params: object) -> ScoringRun:
    return ScoringRun.objects.create(
        state=ScoringRun.State.SUCCEEDED,
        method="bgnbd",
        params={"bgnbd": PARAMS, "time_unit": "day", **params},
        progress=100,
        finished_at=timezone.now(),
    )


@pytest.fixture
def base() -> None:
    """Five customers: two champions (one VIP), a loyal one, one at risk, and a lost one the model left alone."""
    CustomerScoreFactory.create(
        segment="champions",
        tier="vip",
        total_value=Decimal("10000.00"),
        predicted_clv=Decimal("4000.00"),
        churn_risk=0.1,
    )
    CustomerScoreFactory.create(
        segment="champions",
        tier="high",
        total_value=Decimal("6000.00"),
        predicted_clv=Decimal("2000.00"),
        churn_risk=0.3,
    )
    CustomerScoreFactory.create(
        segment="loyal", tier="high", total_value=Decimal("3000.50"), predicted_clv=Decimal("1000.25"), churn_risk=0.2
    )
    CustomerScoreFactory.create(
        segment="at_risk", tier="medium", total_value=Decimal("800.00"), predicted_clv=Decimal("100.00"), churn_risk=0.7
    )
    CustomerScoreFactory.create(
        segment="lost", tier="low", total_value=Decimal("199.50"), predicted_clv=None, churn_risk=None
    )


def test_segment_figures_are_summed_per_segment(base: None):
    report = selectors.segment_report()

    rows = {row.key: row for row in report.segments}
    assert [row.key for row in report.segments] == list(Segment.values)
    assert rows["champions"].customers == 2
    assert rows["champions"].total_value == Decimal("16000.00")
    assert rows["champions"].predicted_clv == Decimal("4000.00") + Decimal("2000.00")
    assert rows["champions"].churn_risk == pytest.approx(0.2)
    assert rows["champions"].churn_percent == 20
    assert rows["champions"].customer_share == pytest.approx(40.0)
    assert rows["champions"].value_share == pytest.approx(80.0)
    assert rows["loyal"].total_value == Decimal("3000.50")
    assert rows["lost"].predicted_clv is None
    assert rows["lost"].churn_percent is None
    assert rows["new"].customers == 0
    assert rows["new"].total_value == Decimal("0")
    assert report.customers == 5
    assert report.total_value == Decimal("20000.00")
    assert report.predicted_clv == Decimal("7100.25")


def test_tier_figures_are_summed_per_tier(base: None):
    report = selectors.segment_report()

    rows = {row.key: row for row in report.tiers}
    assert [row.key for row in report.tiers] == list(Tier.values)
    assert (rows["vip"].customers, rows["high"].customers, rows["medium"].customers, rows["low"].customers) == (
        1,
        2,
        1,
        1,
    )
    assert rows["high"].total_value == Decimal("9000.50")
    assert rows["high"].predicted_clv == Decimal("3000.25")
    assert rows["high"].churn_risk == pytest.approx(0.25)


def test_an_empty_base_gives_zero_figures():
    report = selectors.segment_report()

    assert report.customers == 0
    assert report.predicted_clv is None
    assert all(row.customers == 0 and row.customer_share == 0 for row in report.segments + report.tiers)


def test_the_figures_are_cached_until_the_next_run(base: None, django_assert_num_queries):
    first_run = _succeeded_run()
    selectors.segment_report()
    CustomerScoreFactory.create(segment="champions")

    with django_assert_num_queries(2):  # the last run and the thresholds: the key, not the figures
        cached = selectors.segment_report()
    _succeeded_run()
    fresh = selectors.segment_report()

    assert cached.run_id == first_run.pk
    assert next(row for row in cached.segments if row.key == "champions").customers == 2
    assert next(row for row in fresh.segments if row.key == "champions").customers == 3


def test_new_thresholds_refresh_the_tier_figures_at_once(base: None):
    _succeeded_run()
    before = {row.key: row.customers for row in selectors.segment_report().tiers}

    scoring_settings_update(vip_from=50, high_from=40, medium_from=30)  # every factory score (60) becomes VIP

    after = {row.key: row.customers for row in selectors.segment_report().tiers}
    assert before["vip"] == 1
    assert after["vip"] == 5


def test_labels_follow_the_reader_language_even_from_the_cache(base: None):
    with translation.override("en"):
        english = selectors.segment_report().segments[0].label
    with translation.override("ru"):
        russian = selectors.segment_report().segments[0].label
        expected_russian = str(Segment.CHAMPIONS.label)

    assert english == "Champions"
    assert russian == expected_russian
    assert russian != english


def test_the_rf_map_shows_the_engine_map_with_names_advice_and_colours():
    rows = selectors.rf_map()

    assert [row["recency"] for row in rows] == [5, 4, 3, 2, 1]
    for row in rows:
        for cell in row["cells"]:
            assert cell["segment"] == RF_MAP[cell["recency"] - 1][cell["frequency"] - 1]
            assert cell["colour"].startswith("#")
            assert str(cell["label"]) == str(Segment(cell["segment"]).label)
            assert str(cell["advice"])


def test_every_segment_has_translatable_advice_and_a_colour():
    assert selectors.SEGMENT_ADVICE_TRANSLATED.keys() == SEGMENT_ADVICE.keys()
    with translation.override("en"):
        assert {key: str(text) for key, text in selectors.SEGMENT_ADVICE_TRANSLATED.items()} == SEGMENT_ADVICE
    assert selectors.SEGMENT_COLOURS.keys() == set(Segment.values)
    assert selectors.TIER_COLOURS.keys() == set(Tier.values)


def test_the_fit_check_compares_the_model_with_the_score_table():
    for tenure, transactions in [(30, 1), (30, 1), (30, 2), (200, 1), (200, 3), (400, 12), (700, 8)]:
        CustomerScoreFactory.create(tenure_days=tenure, transactions=transactions)
    run = _succeeded_run()

    fit = selectors.fit_check_for(run)

    assert fit is not None
    assert fit.labels == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert fit.actual == [3, 1, 1, 0, 0, 0, 0, 2]
    direct = expected_customers(
        BgNbdParams(**PARAMS), np.array([30.0, 200.0, 400.0, 700.0]), np.array([3.0, 2.0, 1.0, 1.0])
    )
    assert fit.expected == pytest.approx(direct, abs=0.05)


def test_a_run_counted_in_weeks_gets_its_tenures_in_weeks():
    CustomerScoreFactory.create(tenure_days=70, transactions=1)
    run = ScoringRun.objects.create(
        state=ScoringRun.State.SUCCEEDED, method="bgnbd", params={"bgnbd": PARAMS, "time_unit": "week"}
    )

    fit = selectors.fit_check_for(run)

    direct = expected_customers(BgNbdParams(**PARAMS), np.array([10.0]), np.array([1.0]))
    assert fit is not None
    assert fit.expected == pytest.approx(direct, abs=0.05)


def test_no_fit_check_for_a_run_that_fell_back_to_rf():
    CustomerScoreFactory.create()
    run = ScoringRun.objects.create(state=ScoringRun.State.SUCCEEDED, method="rf", fallback_reason="too few")

    assert selectors.fit_check_for(run) is None


def test_the_active_run_is_the_one_waiting_or_running():
    ScoringRun.objects.create(state=ScoringRun.State.SUCCEEDED)
    assert selectors.active_run() is None
    running = ScoringRun.objects.create(state=ScoringRun.State.RUNNING)

    assert selectors.active_run() == running


def test_the_last_succeeded_run_is_the_latest_to_finish():
    assert selectors.last_succeeded_run() is None
    older = _succeeded_run()
    ScoringRun.objects.create(state=ScoringRun.State.FAILED)

    assert selectors.last_succeeded_run() == older
