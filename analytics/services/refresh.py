"""The nightly rewrite of analytics' monthly aggregates, set-based: each table is emptied and filled by one
INSERT … SELECT … GROUP BY over the other apps' selectors (composed as subqueries), in one transaction, so a page
never sees half a refresh."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Model, QuerySet
from django.utils import timezone

from analytics.models import AcquisitionCohort, CohortMonth, EarlyWarning, Refresh, SegmentFlow, SegmentMonth
from customers.selectors import acquisition_rows
from orders.selectors import delivered_order_rows
from scoring.selectors import rising_churn_rows, score_value_rows, snapshot_counts, snapshot_flows_select
from shop.locks import advisory_xact_lock
from shop.models import ShopSettings

# Grouping ten million orders by cohort and month hashes several million (customer, month) pairs: with the default
# 4 MB PostgreSQL sorts them on disk instead.
WORK_MEM = "256MB"


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


def cohort_months_fill(*, zone: str) -> None:
    """CohortMonth: each cohort's delivered orders by months since its first order; buyers counted once per month
    by grouping (customer, month) first."""
    customers_sql, customers_params = _select(acquisition_rows())
    orders_sql, orders_params = _select(delivered_order_rows())
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


def _segments_since() -> date | None:
    latest = SegmentMonth.objects.aggregate(latest=Max("month"))["latest"]
    if latest is None:
        return None
    return date(latest.year - 1, 12, 1) if latest.month == 1 else date(latest.year, latest.month - 1, 1)


def aggregates_refresh() -> Refresh:
    """Rewrite every aggregate from the current orders, customers, scores and snapshots, in one transaction.

    Holds the ``analytics.refresh`` advisory lock for the transaction: a second refresh (the night's and the
    owner's at once) waits and then rewrites again, so running twice is harmless. Each table is emptied with
    DELETE, not TRUNCATE, so pages keep reading the previous figures until the commit. Triggers nothing."""
    refresh = Refresh.objects.create()
    timings: dict[str, float] = {}
    zone = ShopSettings.load().time_zone
    try:
        with transaction.atomic():
            advisory_xact_lock(["analytics.refresh"])
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            steps = (
                ("cohorts", AcquisitionCohort, lambda: cohorts_fill(zone=zone)),
                ("cohort_months", CohortMonth, lambda: cohort_months_fill(zone=zone)),
                ("warnings", EarlyWarning, warnings_fill),
            )
            for name, model, fill in steps:
                started = time.monotonic()
                model.objects.all().delete()
                fill()
                timings[name] = round(time.monotonic() - started, 3)
            started = time.monotonic()
            segments_fill(since=_segments_since())
            timings["segments"] = round(time.monotonic() - started, 3)
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
