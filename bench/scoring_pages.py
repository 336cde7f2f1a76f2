"""The scoring pages on a million scores: the segment and tier aggregates and the fit check, uncached and cached,
and the whole pages through Django.

    createdb -h 127.0.0.1 -U postgres retain_pagesbench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_pagesbench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/scoring_pages.py --prepare 1000000 [--runs 5]

``--prepare N`` fills an empty database with N customers and a score each (drawn set-based in SQL: tenures up to
two years, geometric purchase counts, the RF map's segments, tiers from importance) and a succeeded run with
BG/NBD parameters; without it the script reads whatever the database holds (``retain_bench`` after
``bench/scoring.py`` has written its scores). Reads only, apart from the preparation: the pages are fetched by an
owner created in a transaction that is rolled back. Prints the median and the slowest of ``--runs`` repetitions
in ms and the plan's top line of each GROUP BY.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


def timed(label: str, runs: int, action: Callable[[], object], before: Callable[[], None] | None = None) -> None:
    times = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    print(f"{label:<52} median {statistics.median(times):9.1f} ms   slowest {max(times):9.1f} ms")


def prepare(count: int) -> None:
    from django.db import connection, transaction

    from customers.models import Customer
    from scoring.engine.rfm import RF_MAP
    from scoring.models import CustomerScore, ScoringRun

    if Customer.objects.exists() or CustomerScore.objects.exists():
        raise SystemExit("--prepare fills an empty database only; this one has customers or scores already.")
    started = time.perf_counter()
    batch = 20_000
    for first in range(0, count, batch):
        size = min(batch, count - first)
        Customer.objects.bulk_create([Customer(name=f"Bench {first + i}") for i in range(size)], batch_size=batch)
    print(f"customers: {count} in {time.perf_counter() - started:.1f} s")
    cells = ", ".join(f"'{segment}'" for row in RF_MAP for segment in row)
    started = time.perf_counter()
    with transaction.atomic():
        run = ScoringRun.objects.create(
            state=ScoringRun.State.SUCCEEDED,
            method="bgnbd",
            progress=100,
            customers=count,
            params={"bgnbd": {"r": 0.75, "alpha": 14.0, "a": 0.72, "b": 6.3}, "time_unit": "day"},
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH drawn AS (
                    SELECT id, floor(random() * 731)::int AS tenure, 1 + floor(-ln(1 - random()) * 2.5)::int AS days,
                           random() AS u, floor(random() * 101)::int AS importance
                      FROM customers_customer
                ), scored AS (
                    SELECT *, floor(u * tenure)::int AS recency, 1 + floor(u * 5)::int AS r,
                           least(5, days)::int AS f, (days * (500 + 3000 * u))::numeric(14, 2) AS total
                      FROM drawn
                )
                INSERT INTO scoring_customerscore (
                    customer_id, run_id, first_purchase, last_purchase, transactions, recency_days, tenure_days,
                    total_value, average_value, r_score, f_score, m_score, segment, p_alive, expected_30,
                    expected_90, expected_365, expected_value, predicted_clv, churn_risk, churn_reasons, importance,
                    tier, updated_at)
                SELECT id, %s, current_date - tenure, current_date - recency, days, recency, tenure,
                       total, (total / days)::numeric(14, 2), 6 - r, f, 1 + floor(u * 4.99)::int,
                       (ARRAY[{cells}])[(5 - r) * 5 + f], 1 - u, 0.1, 0.3, 1.2, 1500, (1 + 2000 * (1 - u))::numeric(14, 2),
                       u, '[]'::jsonb, importance,
                       CASE WHEN importance >= 95 THEN 'vip' WHEN importance >= 80 THEN 'high'
                            WHEN importance >= 50 THEN 'medium' ELSE 'low' END,
                       now()
                  FROM scored
                """,  # noqa: S608 (the map's own segment keys)
                [run.pk],
            )
        ScoringRun.objects.filter(pk=run.pk).update(finished_at=run.created_at)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scoring_customerscore")
    print(f"scores: {count} in {time.perf_counter() - started:.1f} s")


def plan(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        lines = [row[0] for row in cursor.fetchall()]
    top = lines[0].strip()
    scans = sorted({line.strip().removeprefix("->").strip().split("  (")[0] for line in lines if " Scan " in line})
    return f"{top}\n      scans: {', '.join(scans)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", type=int, default=0, help="fill an empty database with this many scores")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse

    from scoring import selectors
    from scoring.models import CustomerScore
    from shop.roles import Role
    from shop.services import user_create

    if args.prepare:
        prepare(args.prepare)
    scores = CustomerScore.objects.count()
    run = selectors.last_succeeded_run()
    if not scores or run is None:
        raise SystemExit(
            "No scores or no succeeded run: use --prepare N on an empty database, or run bench/scoring.py."
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = (cursor.fetchone() or [""])[0].split(" on ")[0]
    print(f"{scores:,} scores, run {run.pk} ({run.method}); {version}; {os.cpu_count()} CPUs; {args.runs} runs each")

    timed("segment and tier figures, uncached (2 GROUP BYs)", args.runs, selectors.segment_report, cache.clear)
    timed("segment and tier figures, cached", args.runs, selectors.segment_report)
    timed("fit check, uncached (2 GROUP BYs + the pmf)", args.runs, lambda: selectors.fit_check_for(run), cache.clear)
    timed("fit check, cached", args.runs, lambda: selectors.fit_check_for(run))
    # The two GROUP BYs of the segments page, and the single GROUPING SETS scan that could replace them.
    plans = {
        "GROUP BY segment": "SELECT segment, count(*), sum(total_value), sum(predicted_clv), avg(churn_risk) "
        "FROM scoring_customerscore GROUP BY 1",
        "GROUP BY tier": "SELECT tier, count(*), sum(total_value), sum(predicted_clv), avg(churn_risk) "
        "FROM scoring_customerscore GROUP BY 1",
        "GROUPING SETS (segment), (tier)": "SELECT segment, tier, count(*), sum(total_value), sum(predicted_clv), "
        "avg(churn_risk) FROM scoring_customerscore GROUP BY GROUPING SETS ((segment), (tier))",
    }
    for label, sql in plans.items():
        print(f"  {label}: {plan(sql)}")

    with transaction.atomic():
        owner = user_create(
            username=f"bench-pages-{os.getpid()}", password="unused-" + str(time.time_ns()), role=Role.OWNER
        )
        client = Client()
        client.force_login(owner)

        def fetch(url: str) -> Callable[[], object]:
            return lambda: client.get(url)

        for name in ("scoring:segments", "scoring:model"):
            url = reverse(name)
            status = client.get(url).status_code
            if status != 200:
                raise SystemExit(f"{url}: HTTP {status}")
            timed(f"{url} whole page, uncached", args.runs, fetch(url), cache.clear)
            timed(f"{url} whole page, cached", args.runs, fetch(url))
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
