"""The customer list and search on a million customers, through the selectors the pages use.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench .venv/bin/python bench/customers_list.py [--runs 30]

Read-only. Prints median and 95th percentile per query kind: the first page, a filtered page, a deep page reached
by following the keyset cursor, every sort's first page, name, phone and email search, and the caller lookup's
phone query; then the whole page through Django as a signed-in manager (the user is removed at the end).
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    action()  # warm the caches and the plan
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(0.95 * len(samples)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--depth", type=int, default=2000, help="pages to walk for the deep page")
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client

    from crm.callcentre import customer_by_number
    from customers.models import Customer, CustomerEmail, CustomerPhone
    from customers.selectors import CustomerFilters, SearchKind, customer_list
    from shop.models import User
    from shop.roles import Role
    from shop.services import user_create

    phone = CustomerPhone.objects.order_by("id").values_list("number", flat=True)[500_000]
    email = CustomerEmail.objects.order_by("id").values_list("address", flat=True)[300_000]
    filtered = CustomerFilters(
        channel="organic",
        orders_min=3,
        spent_min=Decimal("5000"),
        spent_max=Decimal("100000"),
        last_order_from=date(2026, 1, 1),
    )
    cursor = None
    walked = time.perf_counter()
    for _ in range(args.depth):
        cursor = customer_list(CustomerFilters(), cursor=cursor, with_total=False).next_cursor
    walked = time.perf_counter() - walked
    results: dict[str, tuple[float, float]] = {
        "first page (default sort)": timed(lambda: customer_list(CustomerFilters()), args.runs),
        "filtered page": timed(lambda: customer_list(filtered), args.runs),
        f"page {args.depth + 1} by keyset": timed(lambda: customer_list(CustomerFilters(), cursor=cursor), args.runs),
    }
    for sort in (
        "name",
        "-name",
        "total_spent",
        "-total_spent",
        "orders_count",
        "-orders_count",
        "created",
        "-created",
        "last_order",
        "-last_order",
    ):
        results[f"first page sorted by {sort}"] = timed(partial(customer_list, CustomerFilters(), sort=sort), args.runs)
    results["name search “Иванов”"] = timed(
        lambda: customer_list(CustomerFilters(search_kind=SearchKind.NAME, search="Иванов")), args.runs
    )
    results["phone search (list box, E.164)"] = timed(
        lambda: customer_list(CustomerFilters(search_kind=SearchKind.PHONE, search=phone)), args.runs
    )
    results["email search"] = timed(
        lambda: customer_list(CustomerFilters(search_kind=SearchKind.EMAIL, search=email)), args.runs
    )
    results["caller lookup phone query"] = timed(lambda: customer_by_number(phone), args.runs)

    manager = user_create(
        username=f"bench-manager-{os.getpid()}", password=secrets.token_urlsafe(16), role=Role.MANAGER
    )
    try:
        client = Client()
        client.force_login(manager)
        results["whole page, first (Django, signed in)"] = timed(lambda: client.get("/customers/"), args.runs)
        results["whole page, filtered"] = timed(
            lambda: client.get("/customers/", {"channel": "organic", "orders_min": "3", "spent_min": "5000"}), args.runs
        )
        results["whole page, phone search"] = timed(lambda: client.get("/customers/", {"q": phone}), args.runs)
    finally:
        User.objects.filter(pk=manager.pk).delete()

    print(f"customers: {Customer.objects.count():,}; walking {args.depth} pages by cursor took {walked:.1f} s")
    width = max(len(name) for name in results)
    for name, (median, p95) in results.items():
        print(f"{name:<{width}}  median {median:7.2f} ms   p95 {p95:7.2f} ms")


if __name__ == "__main__":
    main()
