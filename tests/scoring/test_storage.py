"""How scores are written: binary COPY, the swapped-in fresh table, the ORM path other databases take, and what
a failed run leaves behind."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import time_machine
from django.db import connection, transaction

from orders.models import Order
from scoring import order_scan, pgcopy, services, statistics, storage
from scoring.models import CustomerScore, ScoringRun
from scoring.pgcopy import Categorical, Column, Stream, encode
from scoring.statistics import EPOCH
from tests.factories import CustomerFactory, CustomerScoreFactory, OrderFactory
from tests.scoring.runs import run_now, seed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(datetime(2026, 11, 1, 12, tzinfo=UTC), tick=False):
        yield


def test_binary_copy_writes_money_dates_nulls_text_and_json_exactly():
    columns = [
        Column("bigint", np.array([1, 2, 3])),
        Column("date", np.array([0, 20393, 20394])),
        Column("numeric(14, 2)", np.array([0.0, 1234.5, 99999999999.99])),
        Column("numeric(14, 2)", np.array([np.nan, -0.01, 10.0])),
        Column("double precision", np.array([0.25, np.nan, 1.0])),
        Column("varchar(20)", Categorical(np.array([0, 1, 0]), ["champions", "can't lose"])),
        Column("jsonb", Categorical(np.array([0, 1, 0]), [[], ["Жалоба: «поздно»"]])),
        Column("bigint", None),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE t (id bigint, d date, m numeric(14, 2), n numeric(14, 2), f float8,"
            " s varchar(20), j jsonb, r bigint)"
        )
        cursor.copy_expert("COPY t FROM STDIN (FORMAT binary)", Stream(encode(columns, 3)))
        cursor.execute("SELECT * FROM t ORDER BY id")
        rows = cursor.fetchall()
    assert rows == [
        (1, date(1970, 1, 1), Decimal("0.00"), None, 0.25, "champions", "[]", None),
        (2, date(2025, 11, 1), Decimal("1234.50"), Decimal("-0.01"), None, "can't lose", '["Жалоба: «поздно»"]', None),
        (3, date(2025, 11, 2), Decimal("99999999999.99"), Decimal("10.00"), 1.0, "champions", "[]", None),
    ]


def test_binary_copy_in_a_given_order_writes_the_rows_in_it_across_layouts(monkeypatch):
    # Rows of four layouts (text of three lengths, one NULL float), interleaved, and pieces that cut runs.
    monkeypatch.setattr(pgcopy, "PIECE_ROWS", 7)
    size = 40
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 3, size)
    money = np.where(rng.random(size) < 0.2, np.nan, rng.integers(0, 10**6, size) / 100)
    columns = [
        Column("bigint", np.arange(size) * 10),
        Column("varchar(20)", Categorical(codes, ["a", "bb", "ccc"])),
        Column("jsonb", Categorical(codes, [[], ["x"], None])),
        Column("numeric(14, 2)", money),
        Column("integer", 5),
    ]
    order = rng.permutation(size)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE t (id bigint, s varchar(20), j jsonb, m numeric(14, 2), i integer)")
        cursor.copy_expert("COPY t FROM STDIN (FORMAT binary)", Stream(encode(columns, size, order)))
        cursor.execute("SELECT id, s, j, m, i FROM t ORDER BY ctid")
        rows = cursor.fetchall()
    expected = [
        (
            int(row) * 10,
            ["a", "bb", "ccc"][codes[row]],
            ["[]", '["x"]', None][codes[row]],
            None if np.isnan(money[row]) else Decimal(f"{money[row]:.2f}"),
            5,
        )
        for row in order
    ]
    assert rows == expected


def test_the_segment_order_of_whole_importances_is_the_three_key_sort():
    rng = np.random.default_rng(5)
    size = 500
    importance = rng.integers(0, 101, size)
    segment = Categorical(rng.integers(0, 4, size), ["lost", "Champions", "at_risk", "lost"])
    data: dict[str, Any] = {"customer_id": np.arange(size) * 3 + 1, "importance": importance, "segment": segment}
    with connection.cursor() as cursor:
        fast = storage.segment_order(data, cursor)
        general = storage.segment_order({**data, "importance": importance.astype(np.float64)}, cursor)
        cursor.execute(
            "SELECT array_agg(name ORDER BY name) FROM unnest(%s::text[]) AS name", [["lost", "Champions", "at_risk"]]
        )
        (collated,) = cursor.fetchone()
    names = np.array(segment.labels)[segment.codes]
    expected = sorted(range(size), key=lambda row: (collated.index(names[row]), importance[row], row))
    assert fast.tolist() == general.tolist() == expected


def test_a_full_run_writes_the_score_rows_in_the_segment_indexs_order():
    # The segment index's build then finds its input sorted already.
    seed_shop(customers=150)
    run_now()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT customer_id FROM {storage.TABLE} ORDER BY ctid")  # noqa: S608
        physical = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT customer_id FROM {storage.TABLE} ORDER BY segment, importance, customer_id")  # noqa: S608
        by_index = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT count(DISTINCT segment) FROM {storage.TABLE}")  # noqa: S608
        (segments,) = cursor.fetchone()
    assert segments > 2
    assert len(physical) > 100 and physical == by_index


def _columns_of(scores: list[CustomerScore]) -> dict[str, Any]:
    """Stored scores back in the column form the writers take."""
    data: dict[str, Any] = {}
    for field in CustomerScore._meta.concrete_fields:
        values = [getattr(score, field.attname) for score in scores]
        kind = field.get_internal_type()
        if kind in ("CharField", "JSONField"):
            data[field.attname] = Categorical(np.arange(len(values)), values)
        elif kind == "DateField":
            data[field.attname] = np.array([(value - EPOCH).days for value in values])
        elif kind in ("DecimalField", "FloatField"):
            data[field.attname] = np.array([np.nan if value is None else float(value) for value in values])
        elif kind == "DateTimeField" or field.attname == "run_id":
            data[field.attname] = values[0]
        else:
            data[field.attname] = np.array(values)
    return data


def _index_and_constraint_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass"
            " UNION SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass",
            [storage.TABLE, storage.TABLE],
        )
        return {name for (name,) in cursor.fetchall()}


def test_the_swapped_in_table_keeps_every_index_and_constraint_of_the_old_one():
    seed_shop(customers=150)
    before = _index_and_constraint_names()
    run_now()
    assert _index_and_constraint_names() == before


def test_the_swapped_in_table_is_written_frozen_with_every_page_all_visible():
    # Frozen rows need no hint bits from the first reader after the commit (which otherwise writes the whole table
    # out again), and all-visible pages let the list's indexes answer alone without waiting for a vacuum.
    seed_shop(customers=150)
    run_now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, relallvisible FROM pg_class WHERE oid = %s::regclass", [storage.TABLE])
        pages, visible = cursor.fetchone()
    assert pages > 0 and visible == pages


def test_a_rescore_made_while_the_run_computed_survives_the_swap():
    seed_shop(customers=150)
    run_now()
    kept = CustomerScore.objects.order_by("customer_id").first()
    assert kept is not None
    started = datetime(2026, 11, 1, 12, tzinfo=UTC)
    CustomerScore.objects.filter(pk=kept.pk).update(importance=3, updated_at=started + timedelta(seconds=1))
    other = CustomerScore.objects.exclude(pk=kept.pk).first()
    assert other is not None
    carried = storage.replace_postgres(_columns_of([other]), since=started)
    assert carried == 1
    assert CustomerScore.objects.get(pk=kept.pk).importance == 3
    assert CustomerScore.objects.count() == 2


def test_a_full_write_replaces_the_table_and_drops_scores_without_orders():
    seed_shop(customers=150)
    run_now()
    stale = CustomerScoreFactory.create(customer=CustomerFactory.create())
    first = CustomerScore.objects.exclude(pk=stale.pk).order_by("customer_id").first()
    assert first is not None
    data = _columns_of([first])
    data["importance"] = np.array([7])
    storage.write_scores(data, replace_all=True)
    assert list(CustomerScore.objects.values_list("customer_id", "importance")) == [(first.customer_id, 7)]


def test_a_failed_run_records_its_error_state_and_finished_steps(monkeypatch):
    seed_shop(customers=150)

    def broken(*args, **kwargs):
        raise RuntimeError("the fit exploded")

    monkeypatch.setattr(services, "fit_model", broken)
    run = ScoringRun.objects.create()
    with pytest.raises(RuntimeError):
        services.scoring_full_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == ScoringRun.State.FAILED and run.finished_at is not None
    assert run.error == "RuntimeError: the fit exploded"
    assert set(run.timings) == {"statistics"}
    assert not CustomerScore.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_two_connection_statistics_scan_reads_what_one_connection_reads():
    seed_shop(customers=150)
    zone, today = ZoneInfo("Europe/Moscow"), 20393
    both = statistics.stats_from_postgres(zone, today)
    with transaction.atomic():
        one = statistics.stats_from_postgres(zone, today)
    assert both.size == one.size > 100
    for name in ("customer_id", "days", "first_day", "last_day", "total", "first_value", "returns"):
        assert np.array_equal(getattr(both, name), getattr(one, name)), name


@pytest.mark.django_db(transaction=True)
def test_the_statistics_scan_in_chunks_of_one_page_reads_what_one_chunk_reads(monkeypatch):
    seed_shop(customers=150)
    zone, today = ZoneInfo("Europe/Moscow"), 20393
    whole = statistics.stats_from_postgres(zone, today)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size('orders_order') / current_setting('block_size')::int")
        (pages,) = cursor.fetchone()
    assert pages > 4
    monkeypatch.setattr(order_scan, "CHUNK_PAGES", 1)
    both = statistics.stats_from_postgres(zone, today)
    with transaction.atomic():
        one = statistics.stats_from_postgres(zone, today)
    assert whole.size > 100
    for name in ("customer_id", "days", "first_day", "last_day", "total", "first_value", "returns"):
        assert np.array_equal(getattr(whole, name), getattr(both, name)), name
        assert np.array_equal(getattr(whole, name), getattr(one, name)), name


def test_page_ranges_cover_every_page_once_and_leave_the_tables_end_open(monkeypatch):
    monkeypatch.setattr(order_scan, "CHUNK_PAGES", 10)
    assert order_scan.page_ranges(0, 25, 40) == [
        "ctid >= '(0,0)'::tid AND ctid < '(10,0)'::tid",
        "ctid >= '(10,0)'::tid AND ctid < '(20,0)'::tid",
        "ctid >= '(20,0)'::tid AND ctid < '(25,0)'::tid",
    ]
    assert order_scan.page_ranges(25, None, 40) == [
        "ctid >= '(25,0)'::tid AND ctid < '(35,0)'::tid",
        "ctid >= '(35,0)'::tid",
    ]
    assert order_scan.page_ranges(0, None, 0) == ["ctid >= '(0,0)'::tid"]


def test_the_statistics_of_a_shop_without_orders_are_empty():
    stats = statistics.stats_from_postgres(ZoneInfo("Europe/Moscow"), 20393)
    assert stats.size == 0


def test_a_zones_one_offset_over_the_orders_is_found_and_a_change_of_offset_is_not_missed():
    moscow, berlin = ZoneInfo("Europe/Moscow"), ZoneInfo("Europe/Berlin")
    since_2015 = (datetime(2015, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert statistics.constant_offset(moscow, *since_2015) == timedelta(hours=3)
    # Moscow went from +03:00 (winter) and +04:00 (summer) to +04:00 all year in 2011, and to +03:00 in 2014.
    assert (
        statistics.constant_offset(moscow, datetime(2010, 1, 1, tzinfo=UTC), datetime(2012, 1, 1, tzinfo=UTC)) is None
    )
    assert (
        statistics.constant_offset(berlin, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)) is None
    )
    assert statistics.constant_offset(moscow, None, None) is None


def test_the_scan_at_a_zones_fixed_offset_gives_the_days_its_rules_give(monkeypatch):
    seed_shop(customers=150)
    # 21:30 UTC is already the next day in Moscow: the day must come out the same either way.
    late: Order = OrderFactory.create(placed_at=datetime(2026, 10, 5, 21, 30, tzinfo=UTC), status="delivered")
    zone, today = ZoneInfo("Europe/Moscow"), 20393
    fixed = statistics.stats_from_postgres(zone, today)
    monkeypatch.setattr(statistics, "constant_offset", lambda *args: None)
    by_rules = statistics.stats_from_postgres(zone, today)
    assert fixed.size == by_rules.size > 100
    for name in ("customer_id", "days", "first_day", "last_day", "total", "first_value", "returns"):
        assert np.array_equal(getattr(fixed, name), getattr(by_rules, name)), name
    at = int(np.searchsorted(fixed.customer_id, late.customer_id))
    assert fixed.first_day[at] == (date(2026, 10, 6) - EPOCH).days
