"""The nightly rewrite of analytics' monthly aggregates, set-based: each table is emptied and filled by one
INSERT … SELECT … GROUP BY over the other apps' selectors (composed as subqueries), in one transaction, so a page
never sees half a refresh.

The cohort months and the programme effects are the steps that read ten million orders. A month's row changes only
when an order of that month is placed, delivered or returned, which happens within weeks of it: the nightly run
rewrites the months from the start of the previous one, and brings the programme effects up to date by rereading
only the exposures something happened to since the last run (``analytics.effect.aggregate``). A full rewrite runs
on Sundays, when the tables are empty, and on ``manage.py analytics_refresh --full`` (a big import of old orders, a
change of channels)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Max, Model, QuerySet, Sum
from django.utils import timezone

from analytics.effect.aggregate import effects_fill
from analytics.effect.sources import exposures_record
from analytics.models import (
    AcquisitionCohort,
    AtRiskValue,
    CohortMonth,
    EarlyWarning,
    Refresh,
    SegmentFlow,
    SegmentMonth,
)
from customers.selectors import acquisition_rows
from orders.selectors import delivered_order_rows
from scoring.selectors import rising_churn_rows, score_value_rows, snapshot_counts, snapshot_flows_select
from shop.locks import advisory_xact_lock
from shop.models import ShopSettings

# Grouping ten million orders by cohort and month hashes several million (customer, month) pairs: with the default
# 4 MB PostgreSQL sorts them on disk instead.
WORK_MEM = "256MB"
# Sunday (ISO): the night the cohort months are rewritten whole.
FULL_REWRITE_WEEKDAY = 7


def _select(rows: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def _insert(model: type[Model], columns: list[str], sql: str, params: list[Any]) -> None:
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({names}) {sql}", params)


def _month(expression: str) -> str:
    """The first day of the month of a timestamp, in the shop's time zone (the statement's first parameter)."""
    return f"date_trunc('month', {expression} AT TIME ZONE %(zone)s)::date"


def cohorts_fill(*, zone: str) -> None:
    """AcquisitionCohort: customers by channel, campaign and month of their first order, with their scores."""
    customers_sql, customers_params = _select(acquisition_rows())
    scores_sql, scores_params = _select(score_value_rows())
    sql = (
        f"SELECT c.channel, LEFT(c.utm_campaign, 200), {_month('c.first_order_at')}, COUNT(*), "  # noqa: S608 (table names and selectors' SQL, values as parameters)
        "COUNT(*) FILTER (WHERE c.orders_count >= 2), COUNT(s.customer_id), "
        "COUNT(*) FILTER (WHERE s.churn_risk < 0.5), COALESCE(SUM(s.predicted_clv), 0) "
        f"FROM ({customers_sql}) c LEFT JOIN ({scores_sql}) s ON s.customer_id = c.id GROUP BY 1, 2, 3"
    )
    _insert_named(
        AcquisitionCohort,
        [
            "channel",
            "campaign",
            "month",
            "customers",
            "repeat_customers",
            "scored_customers",
            "active_customers",
            "predicted_clv",
        ],
        sql,
        [*customers_params, *scores_params],
        zone,
    )


def _previous_month_start(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first - timedelta(days=1)).replace(day=1)


def cohort_months_fill(*, zone: str, since: datetime | None = None) -> None:
    """CohortMonth: each cohort's delivered orders by months since its first order; buyers counted once per month
    by grouping (customer, month) first. With ``since`` (the first moment of a month in the shop's time zone), only
    the calendar months from it on are rewritten; the older rows stay."""
    customers_sql, customers_params = _select(acquisition_rows())
    orders = delivered_order_rows()
    if since is not None:
        orders = orders.filter(placed_at__gte=since)
        month_start = "(cohort + month_offset * interval '1 month')"
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {CohortMonth._meta.db_table} WHERE {month_start} >= %s", [since.date()])  # noqa: S608
    else:
        CohortMonth.objects.all().delete()
    orders_sql, orders_params = _select(orders)
    per_customer = (
        f"SELECT c.channel, LEFT(c.utm_campaign, 200) AS campaign, {_month('c.first_order_at')} AS cohort, "  # noqa: S608 (table names and selectors' SQL, values as parameters)
        f"{_month('o.placed_at')} AS month, SUM(o.total) AS revenue "
        f"FROM ({orders_sql}) o JOIN ({customers_sql}) c ON c.id = o.customer_id "
        "GROUP BY o.customer_id, c.channel, c.utm_campaign, cohort, month"
    )
    offset = (
        "((EXTRACT(YEAR FROM month) - EXTRACT(YEAR FROM cohort)) * 12 "
        "+ EXTRACT(MONTH FROM month) - EXTRACT(MONTH FROM cohort))::int"
    )
    # An order placed before the customer's recorded first order (an import out of order) counts in month 0.
    sql = (
        f"SELECT channel, campaign, cohort, GREATEST({offset}, 0), COUNT(*), SUM(revenue) "  # noqa: S608 (table names and selectors' SQL, values as parameters)
        f"FROM ({per_customer}) per_customer GROUP BY 1, 2, 3, 4"
    )
    _insert_named(
        CohortMonth,
        ["channel", "campaign", "cohort", "month_offset", "buyers", "revenue"],
        sql,
        [*orders_params, *customers_params],
        zone,
    )


def _insert_named(model: type[Model], columns: list[str], sql: str, positional: list[Any], zone: str) -> None:
    """Run an INSERT whose SQL mixes the time zone (``%(zone)s``) with the selectors' positional parameters:
    the positional ones are numbered into names so psycopg2 takes one mapping."""
    names: dict[str, Any] = {"zone": zone}
    pieces = sql.split("%s")
    numbered = pieces[0]
    for index, piece in enumerate(pieces[1:]):
        names[f"p{index}"] = positional[index]
        numbered += f"%(p{index})s" + piece
    _insert(model, columns, numbered, names)  # type: ignore[arg-type]


def segments_fill(*, since: date | None) -> None:
    """SegmentMonth and SegmentFlow for snapshot months on or after ``since`` (everything when ``None``): a month's
    snapshot is final once the next month has begun, so the nightly run rewrites only the last two months."""
    for model in (SegmentMonth, SegmentFlow):
        rows = model.objects.all() if since is None else model.objects.filter(month__gte=since)
        rows.delete()
    counts_sql, counts_params = _select(snapshot_counts(since=since))
    _insert(SegmentMonth, ["month", "segment", "tier", "customers"], counts_sql, counts_params)
    flows_sql, flows_params = snapshot_flows_select(since=since)
    _insert(SegmentFlow, ["month", "from_segment", "to_segment", "customers"], flows_sql, flows_params)


def warnings_fill() -> None:
    """EarlyWarning: the customers whose churn risk rose since last month, with the value at stake."""
    rising_sql, rising_params = _select(rising_churn_rows())
    sql = (
        "SELECT customer_id, churn_risk, previous_churn_risk, churn_risk - previous_churn_risk, "  # noqa: S608 (table names and selectors' SQL, values as parameters)
        f"COALESCE(predicted_clv, 0), last_purchase FROM ({rising_sql}) rising"
    )
    _insert(
        EarlyWarning,
        ["customer_id", "churn_risk", "previous_churn_risk", "rise", "value_at_stake", "last_purchase"],
        sql,
        rising_params,
    )


def at_risk_fill() -> None:
    """AtRiskValue: the scored customers with a churn risk of 50 % or more and their predicted 12-month margin."""
    AtRiskValue.objects.all().delete()
    totals = (
        score_value_rows()
        .filter(churn_risk__gte=0.5)
        .aggregate(customers=Count("customer_id"), value=Sum("predicted_clv"))
    )
    AtRiskValue.objects.create(customers=totals["customers"], value_at_stake=totals["value"] or Decimal("0"))


def _segments_since() -> date | None:
    latest = SegmentMonth.objects.aggregate(latest=Max("month"))["latest"]
    if latest is None:
        return None
    return date(latest.year - 1, 12, 1) if latest.month == 1 else date(latest.year, latest.month - 1, 1)


def _full_rewrite(full: bool | None, now: datetime, zone: str) -> bool:
    """As asked; when not told, on Sundays."""
    if full is None:
        return now.astimezone(ZoneInfo(zone)).isoweekday() == FULL_REWRITE_WEEKDAY
    return full


def _cohort_months_since(full: bool, now: datetime, zone: str) -> datetime | None:
    """``None`` (rewrite everything) on a full rewrite and while the table is empty."""
    if full or not CohortMonth.objects.exists():
        return None
    return _previous_month_start(now, zone)


def _steps(full: bool | None, now: datetime) -> list[tuple[str, Callable[[], object]]]:
    shop = ShopSettings.load()
    zone = shop.time_zone
    rewrite = _full_rewrite(full, now, zone)
    since = _cohort_months_since(rewrite, now, zone)

    def cohorts() -> None:
        AcquisitionCohort.objects.all().delete()
        cohorts_fill(zone=zone)

    def warnings() -> None:
        EarlyWarning.objects.all().delete()
        warnings_fill()

    return [
        ("cohorts", cohorts),
        (
            "cohort_months" if since is None else "cohort_months_recent",
            lambda: cohort_months_fill(zone=zone, since=since),
        ),
        ("warnings", warnings),
        ("segments", lambda: segments_fill(since=_segments_since())),
        ("at_risk", at_risk_fill),
        ("exposures", lambda: exposures_record(now=now)),
        (
            "effects" if rewrite else "effects_recent",
            lambda: effects_fill(margin=shop.gross_margin, now=now, full=rewrite),
        ),
    ]


def aggregates_refresh(*, full: bool | None = None) -> Refresh:
    """Rewrite every aggregate from the current orders, customers, scores and snapshots, in one transaction;
    ``full`` rewrites every cohort month and recomputes every exposure's programme-effect figures (``None``: on
    Sundays); otherwise the months from the previous one on, and the exposures that changed since the last run.

    Holds the ``analytics.refresh`` advisory lock for the transaction: a second refresh (the night's and the
    owner's at once) waits and then rewrites again, so running twice is harmless. Each table is emptied with
    DELETE, not TRUNCATE, so pages keep reading the previous figures until the commit. Records the night's new
    entrants of each loyalty rule with a control group (once each). Triggers nothing."""
    refresh = Refresh.objects.create()
    timings: dict[str, float] = {}
    try:
        with transaction.atomic():
            advisory_xact_lock(["analytics.refresh"])
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
                # The programme-effect statement grows with the programmes (a UNION branch each): compiling it with
                # LLVM took longer than running it, and a backend compiling does not answer a cancel.
                cursor.execute("SET LOCAL jit = off")
            for name, step in _steps(full, timezone.now()):
                started = time.monotonic()
                step()
                timings[name] = round(time.monotonic() - started, 3)
    except Exception as error:
        Refresh.objects.filter(pk=refresh.pk).update(
            state=Refresh.State.FAILED, finished_at=timezone.now(), timings=timings, error=repr(error)[:2000]
        )
        raise
    Refresh.objects.filter(pk=refresh.pk).update(
        state=Refresh.State.SUCCEEDED, finished_at=timezone.now(), timings=timings
    )
    refresh.refresh_from_db()
    return refresh
