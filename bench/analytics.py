"""Analytics on the million-customer database: the nightly aggregation, then each report page through Django.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench
    .venv/bin/python manage.py migrate analytics     # analytics' own tables only
    .venv/bin/python bench/analytics.py [--runs 3]

Reads the orders, customers, scores and snapshots; writes only analytics' own tables (the aggregates, by the
refresh itself). The pages are fetched by an owner created in a transaction that is rolled back. The machine may
be shared: each figure is printed with the one-minute load average measured next to it.
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


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def timed(label: str, runs: int, action: Callable[[], object]) -> None:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    print(f"{label:<40} median {statistics.median(times):9.1f} ms   slowest {max(times):9.1f} ms   {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-refresh", action="store_true", help="time the pages on the stored aggregates")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.db import transaction
    from django.test import Client

    from analytics.services import aggregates_refresh
    from tests.factories import make_owner

    if not arguments.skip_refresh:
        print(f"before the refresh: {load()}")
        refresh = aggregates_refresh()
        seconds = (refresh.finished_at - refresh.started_at).total_seconds()  # type: ignore[operator]
        print(f"nightly aggregation {seconds:.1f} s   steps {refresh.timings}   {load()}")
    with transaction.atomic():
        owner = make_owner(language="en")
        client = Client()
        client.force_login(owner)
        for path in ("/analytics/", "/analytics/cohorts/", "/analytics/segments/", "/analytics/early-warnings/"):

            def fetch(path: str = path) -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            fetch()  # the first fetch warms the templates and the shop settings' cache
            timed(path, arguments.runs, fetch)
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
