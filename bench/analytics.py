"""Analytics on the million-customer database: the nightly aggregation (a full rewrite, then the weeknight runs
that rewrite the cohort months from the previous month on and read only the last weeks' orders of the customers in
each programme), then each report page and each role's dashboard through Django.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench    # a migrated, scored base
    .venv/bin/python manage.py migrate analytics                            # additive: new columns and a table
    .venv/bin/python bench/analytics.py [--runs 3] [--skip-refresh] [--keep-rules] [--no-full] [--touch 30000]

Writes analytics' own tables. When the database has no loyalty rule with a control group, adds two (a win-back
offer holding out 20 %, a VIP perk holding out 10 %, dated a year back, named "bench: …") so that the
programme-effect steps and page have programmes to measure, and deletes them at the end with their recorded
exposures and values (``--keep-rules`` keeps them). The pages are fetched by staff created in a transaction
that is rolled back. The machine may be shared: each figure is printed with the one-minute load average measured
next to it; each refresh prints its steps' seconds (``effects``: the full rewrite of the programme effects,
``effects_recent``: a weeknight's).
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

PAGES = (
    "/analytics/",
    "/analytics/cohorts/",
    "/analytics/segments/",
    "/analytics/early-warnings/",
    "/analytics/programmes/",
    "/analytics/programmes/?window=30",
)


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def timed(label: str, runs: int, action: Callable[[], object]) -> None:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    print(f"{label:<44} median {statistics.median(times):9.1f} ms   slowest {max(times):9.1f} ms   {load()}")


def programmes_ensure() -> list[int]:
    """The ids of the bench's rules when it added them (none when the base has rules with a control group)."""
    from django.utils import timezone

    from loyalty.models import LoyaltyRule

    if LoyaltyRule.objects.filter(control_share__gt=0).exists():
        return []
    year_ago = timezone.now() - timedelta(days=365)
    win_back = {"value_kind": "percent", "curve": "linear", "risk_from": "0.5", "risk_to": "0.9", "value_from": "5",
                "value_to": "20", "risk_threshold": "0.5", "days_threshold": None, "clv_reference": None, "cap": "20"}  # fmt: skip
    added = LoyaltyRule.objects.bulk_create(
        [
            LoyaltyRule(name="bench: win-back", kind="win_back", params=win_back, is_active=True,
                        control_share=Decimal("0.2"), created_at=year_ago),
            LoyaltyRule(name="bench: VIP perk", kind="vip_perk", params={"perk": "free_delivery", "percent": "3"},
                        tiers=["vip", "high"], is_active=True, control_share=Decimal("0.1"), created_at=year_ago),
        ]
    )  # fmt: skip
    return [rule.pk for rule in added]


def programmes_remove(rule_ids: list[int]) -> None:
    """Delete the bench's rules, their recorded exposures and values, and the figures measuring them."""
    from analytics.effect.sources import rule_key
    from analytics.models import ExposureValue, ProgrammeEffect, ProgrammeExposure
    from loyalty.models import LoyaltyRule

    keys = [rule_key(pk) for pk in rule_ids]
    for model in (ProgrammeEffect, ProgrammeExposure, ExposureValue):
        model.objects.filter(programme__in=keys).delete()
    LoyaltyRule.objects.filter(pk__in=rule_ids).delete()


def orders_touch(count: int) -> None:
    """A day of a shop's order writes as the weeknight run sees them: the night between two runs passes for the
    orders stamped in the last day (their stamps move a day back, so the bench's runs minutes apart do not reread
    each other's), then ``count`` orders drawn at random are stamped as changed now (their content stays; what a
    refresh rereads for them is the same)."""
    import random

    from django.db import connection
    from django.utils import timezone

    from orders.models import Order

    highest = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = random.sample(range(1, highest + 1), min(count, highest))
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET updated_at = updated_at - interval '1 day' WHERE updated_at >= %s",
            [now - timedelta(days=1)],
        )
        cursor.execute("UPDATE orders_order SET updated_at = %s WHERE id = ANY(%s)", [now, ids])


def refresh_runs(runs: int, *, no_full: bool = False, touch: int = 0) -> None:
    from analytics.services import aggregates_refresh

    for label, full, count in (("full rewrite", True, 0 if no_full else 1), ("weeknight run", False, runs)):
        for _ in range(count):
            if touch and not full:
                orders_touch(touch)
            before = load()
            refresh = aggregates_refresh(full=full)
            seconds = (refresh.finished_at - refresh.started_at).total_seconds()  # type: ignore[operator]
            print(f"{label:<14} {seconds:6.1f} s   steps {refresh.timings}   before: {before}, after: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-refresh", action="store_true", help="time the pages on the stored aggregates")
    parser.add_argument("--keep-rules", action="store_true", help="keep the two rules the bench adds")
    parser.add_argument("--no-full", action="store_true", help="weeknight runs only, on aggregates already rewritten")
    parser.add_argument("--touch", type=int, default=0, help="orders stamped as changed before each weeknight run")
    arguments = parser.parse_args()

    import django

    django.setup()
    added = [] if arguments.skip_refresh else programmes_ensure()
    try:
        if not arguments.skip_refresh:
            refresh_runs(arguments.runs, no_full=arguments.no_full, touch=arguments.touch)
        pages_time(arguments.runs)
    finally:
        if added and not arguments.keep_rules:
            programmes_remove(added)


def pages_time(runs: int) -> None:
    from django.db import transaction
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from shop.twofactor import ENROLLED_SESSION_KEY
    from tests.factories import make_manager, make_operator, make_owner, second_factor_device_for_tests

    with transaction.atomic():
        clients = {}
        for role, make in (("owner", make_owner), ("manager", make_manager), ("operator", make_operator)):
            client = Client()
            user = make(language="en")
            client.force_login(user)
            device = second_factor_device_for_tests(user)
            if device is not None:  # signed in with the code too, as tests/conftest.py does
                session = client.session
                session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                session[ENROLLED_SESSION_KEY] = True
                session.save()
            clients[role] = client
        fetches = [(path, clients["owner"], path) for path in PAGES]
        fetches += [(f"/ ({role}'s dashboard)", clients[role], "/") for role in ("owner", "manager", "operator")]
        for label, client, path in fetches:

            def fetch(client: Client = client, path: str = path) -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            fetch()  # the first fetch warms the templates and the shop settings' cache
            timed(label, runs, fetch)
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
