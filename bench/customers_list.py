"""The customer list and search on a million customers, through the selectors and the page the managers use.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench .venv/bin/python bench/customers_list.py \
        [--runs 50] [--depth 2000]

Needs a database loaded by ``manage.py seed_demo --customers 1000000``; once it is scored (``scoring_customerscore``
filled), the score sorts and filters of the list (scoring.listing) are measured too, with their plans. Read-only on the data: every figure comes
from the real functions (``customers.selectors.customer_list`` with ``CustomerFilters``, the keyset cursors it
makes, ``CustomerFilterForm`` for the search box, ``customers.selectors.phone_owner``), never from SQL written
here. Each query kind is run once to warm up, then ``--runs`` times; the script prints median and 95th percentile
in milliseconds, and one ``EXPLAIN (ANALYZE, BUFFERS)`` line per kind made from the SQL the selector actually sent:
the plan's top node, its time, the buffers and every index the plan reads (and any sequential scan).

The deep page is reached the way a person reaches it: by following ``next_cursor`` from the first page, page after
page, and is then timed with its cursor. Whole pages are requested through Django's test Client as a manager
created inside a transaction that is rolled back at the end, so the user, its session and its last-login stamp
never reach the database. DEBUG is off, as in production. No network beyond the loopback database; every loop is
bounded.
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("DEBUG", "false")

# A filtered page as a manager sets it: one channel, repeat buyers, a spend band, last order in a half-year.
FILTER_QUERY = {
    "channel": "organic",
    "orders_min": "3",
    "spent_min": "5000",
    "spent_max": "50000",
    "last_order_from": "2026-05-01",
    "last_order_to": "2026-10-31",
}
SORT_KEYS = ("last_order", "total_spent", "orders", "created", "name")
# The score columns scoring plugs into the list (scoring.listing): sorts on the score table's indexes, and the
# filters the segments page links to.
SCORE_SORT_KEYS = ("importance", "churn", "clv")
SCORE_FILTERS = {
    "tier=vip": {"tier": "vip"},
    "tier=low": {"tier": "low"},
    "segment=champions": {"segment": "champions"},
    "segment=lost": {"segment": "lost"},
    "churn_min=50": {"churn_min": "50"},
}
# A filter on one score with a sort on another figure: the sort's index is walked past every row the filter
# refuses, and scores are correlated (the Lost are not recent buyers, VIPs are rarely at risk). Timed with fewer
# runs (--walk-runs): they are the list's known slow corners, measured to be seen, not to meet a target.
CROSS_SORTS = {
    "tier=vip": ("-churn", "-last_order"),
    "segment=lost": ("-last_order",),
    "churn_min=50": ("-importance", "-clv", "-last_order"),
}
NAME_PART = "Иванов"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 95th percentile in ms of ``runs`` calls after one warm-up call."""
    action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 0.95)


def sent_queries(action: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SQL and parameters ``action`` sends, recorded on the way to the database."""
    from django.db import connection

    queries: list[tuple[str, Any]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        action()
    return queries


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def explain(sql: str, params: Any) -> str:
    """One line from ``EXPLAIN (ANALYZE, BUFFERS)`` of a query the selector sent."""
    from django.db import connection

    with connection.cursor() as db:
        db.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        found = db.fetchone()
    document = found[0] if found else [{}]
    result = (json.loads(document) if isinstance(document, str) else document)[0]
    top = result["Plan"]
    nodes = list(plan_nodes(top))
    indexes = sorted({node["Index Name"] for node in nodes if "Index Name" in node})
    seq_scans = sorted({node["Relation Name"] for node in nodes if node["Node Type"] == "Seq Scan"})
    line = (
        f"{top['Node Type']}, {result['Execution Time']:.2f} ms, "
        f"buffers hit {top.get('Shared Hit Blocks', 0)} read {top.get('Shared Read Blocks', 0)}; "
        f"indexes: {', '.join(indexes) or 'none'}"
    )
    if seq_scans:
        line += f"; SEQ SCAN on {', '.join(seq_scans)}"
    return line


def explain_first(action: Callable[[], object], table: str) -> str:
    """The plan of the first query ``action`` sends that reads ``table`` (the page query, not the tags or count)."""
    for sql, params in sent_queries(action):
        if f'FROM "{table}"' in sql:
            return explain(sql, params)
    return "no query on " + table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--depth", type=int, default=2000, help="the page number to reach by following cursors")
    parser.add_argument("--walk-runs", type=int, default=3, help="runs of each filter-and-sort-on-another-figure")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse

    from customers.forms import CustomerFilterForm
    from customers.models import Customer, CustomerEmail, CustomerPhone
    from customers.selectors import CustomerFilters, SearchKind, customer_list, make_cursor
    from customers.selectors import phone_owner as customer_by_number
    from scoring.models import CustomerScore
    from shop.roles import Role
    from shop.services import user_create

    customers = Customer.objects.count()
    if customers == 0:
        raise SystemExit("No customers: load the database with `manage.py seed_demo --customers 1000000` first")
    # A customer in the middle of the table, found by the primary key, not by a scan.
    middle = Customer.objects.filter(pk__gte=customers // 2).order_by("pk").values_list("pk", flat=True).first()
    phone = (
        CustomerPhone.objects.filter(customer_id__gte=middle)
        .order_by("customer_id")
        .values_list("number", flat=True)[0]
    )
    email = (
        CustomerEmail.objects.filter(customer_id__gte=middle)
        .order_by("customer_id")
        .values_list("address", flat=True)[0]
    )
    typed_phone = f"8 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}"  # as a person types it

    def form_filters(query: dict[str, str]) -> CustomerFilters:
        form = CustomerFilterForm(query)
        form.is_valid()
        return form.filters()

    filtered = form_filters(FILTER_QUERY)
    assert not filtered.is_empty and filtered.channel == "organic", filtered

    # Walk to the deep page by following each page's next cursor, as the "next" link does.
    walk_started = time.perf_counter()
    cursor: str | None = None
    for _ in range(args.depth - 1):
        cursor = customer_list(CustomerFilters(), cursor=cursor, with_total=False).next_cursor
        if cursor is None:
            raise SystemExit("the list ended before the deep page")
    walk_seconds = time.perf_counter() - walk_started
    deep_cursor = cursor
    deep_first = customer_list(CustomerFilters(), cursor=deep_cursor).rows[0]

    everyone = CustomerFilters()
    kinds: dict[str, tuple[Callable[[], object], str]] = {
        "first page (default sort -last_order)": (lambda: customer_list(everyone), "customers_customer"),
        "filtered page": (lambda: customer_list(filtered), "customers_customer"),
        f"page {args.depth:,} by keyset cursor": (
            lambda: customer_list(everyone, cursor=deep_cursor),
            "customers_customer",
        ),
    }
    for key in SORT_KEYS:
        for sort in (key, "-" + key):
            kinds[f"first page sorted {sort}"] = (
                lambda sort=sort: customer_list(everyone, sort=sort),  # type: ignore[misc]
                "customers_customer",
            )
    walks: dict[str, tuple[Callable[[], object], str]] = {}
    scored = CustomerScore.objects.count()
    if scored:
        # The score sorts and filters, once scoring has run: each sort both ways, each filter with the default sort
        # and with the importance sort, the most common segment, a deep page and the page where scores end.
        for key in SCORE_SORT_KEYS:
            for sort in ("-" + key, key):
                kinds[f"first page sorted {sort}"] = (
                    lambda sort=sort: customer_list(everyone, sort=sort),  # type: ignore[misc]
                    "customers_customer",
                )
        for label, query in SCORE_FILTERS.items():
            # The filter alone takes the order of its own index (customers.views._default_sort); then by importance.
            default = "-churn" if "churn_min" in query else "-importance"
            for sort in dict.fromkeys((default, "-importance")):
                kinds[f"{label}, sorted {sort}"] = (
                    lambda query=query, sort=sort: customer_list(form_filters(query), sort=sort),  # type: ignore[misc]
                    "customers_customer",
                )
        for label, sorts in CROSS_SORTS.items():
            for sort in sorts:
                walks[f"{label}, sorted {sort}"] = (
                    lambda query=SCORE_FILTERS[label], sort=sort: customer_list(  # type: ignore[misc]
                        form_filters(query), sort=sort
                    ),
                    "customers_customer",
                )
        cursor = None
        for _ in range(args.depth - 1):
            cursor = customer_list(everyone, "-importance", cursor, with_total=False).next_cursor
            if cursor is None:
                break
        importance_deep_cursor = cursor
        kinds[f"-importance page {args.depth:,} by keyset cursor"] = (
            lambda: customer_list(everyone, "-importance", importance_deep_cursor),
            "customers_customer",
        )
        # The page where the scored customers end and the unscored ones begin: the one page that walks customers
        # to find those without a score (an anti-join), read right after the lowest score.
        lowest = customer_list(everyone, "importance", limit=1, with_total=False).rows[0]
        boundary_cursor = make_cursor("-importance", lowest, "n")
        kinds["-importance, the page where scores end"] = (
            lambda: customer_list(everyone, "-importance", boundary_cursor),
            "customers_customer",
        )
    kinds[f"name search “{NAME_PART}”"] = (
        lambda: customer_list(CustomerFilters(search_kind=SearchKind.NAME, search=NAME_PART)),
        "customers_customer",
    )
    kinds["phone search, search box (typed, form → list)"] = (
        lambda: customer_list(form_filters({"q": typed_phone})),
        "customers_customer",
    )
    kinds["phone search, list selector (E.164)"] = (
        lambda: customer_list(CustomerFilters(search_kind=SearchKind.PHONE, search=phone)),
        "customers_customer",
    )
    kinds["phone, callcentre.customer_by_number"] = (lambda: customer_by_number(phone), "customers_customerphone")
    kinds["email search"] = (
        lambda: customer_list(CustomerFilters(search_kind=SearchKind.EMAIL, search=email)),
        "customers_customer",
    )

    results: dict[str, tuple[float, float]] = {}
    plans: dict[str, str] = {}
    for name, (action, table) in kinds.items():
        results[name] = timed(action, args.runs)
        plans[name] = explain_first(action, table)
        print(f"… {name}: {results[name][0]:.1f} ms", file=sys.stderr, flush=True)
    walk_results: dict[str, tuple[float, float]] = {}
    for name, (action, table) in walks.items():
        walk_results[name] = timed(action, args.walk_runs)
        plans[name] = explain_first(action, table)
        print(f"… {name}: {walk_results[name][0]:.1f} ms", file=sys.stderr, flush=True)
    assert customer_list(CustomerFilters(search_kind=SearchKind.PHONE, search=phone)).rows, "phone not found"
    assert customer_list(form_filters({"q": typed_phone})).rows, "typed phone not found"
    assert customer_by_number(phone) is not None, "caller not found"
    assert customer_list(CustomerFilters(search_kind=SearchKind.EMAIL, search=email)).rows, "email not found"

    # Whole pages through Django as a signed-in manager; everything written here is rolled back.
    url = reverse("customers:list")
    pages = {
        "page: first": {},
        "page: filtered": FILTER_QUERY,
        f"page: {args.depth:,} by cursor": {"cursor": deep_cursor or ""},
        "page: phone search": {"q": typed_phone},
    }
    if scored:
        pages["page: sorted -importance"] = {"sort": "-importance"}
        pages["page: tier=vip (by importance)"] = {"tier": "vip"}
        pages["page: segment=lost (by importance)"] = {"segment": "lost"}
        pages["page: churn_min=50 (by churn risk)"] = {"churn_min": "50"}
    page_results: dict[str, tuple[float, float]] = {}
    with transaction.atomic():
        manager = user_create(
            username=f"bench-list-{os.getpid()}", password="unused-" + str(time.time_ns()), role=Role.MANAGER
        )
        client = Client()
        client.force_login(manager)
        for name, query in pages.items():
            response = client.get(url, query)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
            page_results[name] = timed(lambda query=query: client.get(url, query), args.runs)  # type: ignore[misc]
        deep_page = client.get(url, {"cursor": deep_cursor or ""}).content.decode()
        transaction.set_rollback(True)
    assert deep_first.name in deep_page or str(deep_first.pk) in deep_page, "the deep page shows other rows"

    with connection.cursor() as db:
        db.execute("SELECT version()")
        version = (db.fetchone() or [""])[0].split(" on ")[0]
    print(f"customers: {customers:,}; scored: {scored:,}; {version}; {args.runs} runs each after a warm-up")
    print(f"walking to page {args.depth:,} by next cursor: {walk_seconds:.1f} s ({args.depth - 1:,} pages)")
    width = max(len(name) for name in [*results, *page_results, *walk_results])
    print("\nselectors (one page of 50, with the tags' query and the estimate as the page makes them):")
    for name, (median, p95) in results.items():
        print(f"  {name:<{width}}  median {median:7.2f} ms   p95 {p95:7.2f} ms")
    if walk_results:
        print(f"\na filter on one score, a sort on another figure ({args.walk_runs} runs each; the slow corners):")
        for name, (median, p95) in walk_results.items():
            print(f"  {name:<{width}}  median {median:7.2f} ms   p95 {p95:7.2f} ms")
    print("\nwhole page through Django's test Client, signed in as a manager:")
    for name, (median, p95) in page_results.items():
        print(f"  {name:<{width}}  median {median:7.2f} ms   p95 {p95:7.2f} ms")
    print("\nplans (EXPLAIN ANALYZE, BUFFERS of the page query each sends):")
    for name, plan in plans.items():
        print(f"  {name:<{width}}  {plan}")
    targets = [
        ("first page (default sort -last_order)", 150.0),
        ("filtered page", 150.0),
        (f"page {args.depth:,} by keyset cursor", 150.0),
        ("phone search, list selector (E.164)", 50.0),
        ("phone search, search box (typed, form → list)", 50.0),
        ("phone, callcentre.customer_by_number", 50.0),
    ]
    page_targets = [("page: first", 150.0), ("page: filtered", 150.0), (f"page: {args.depth:,} by cursor", 150.0)]
    if scored:
        targets += [(f"first page sorted {sort}", 150.0) for key in SCORE_SORT_KEYS for sort in ("-" + key, key)]
        targets += [(name, 150.0) for name in results if name.startswith(("tier=", "segment=", "churn_min="))]
        targets += [(f"-importance page {args.depth:,} by keyset cursor", 150.0)]
        page_targets += [(name, 150.0) for name in page_results if name not in dict(page_targets)]
    print("\ntargets (median):")
    for name, limit in targets:
        median = results[name][0]
        print(f"  {name:<{width}}  {median:7.2f} ms < {limit:.0f} ms: {'met' if median < limit else 'MISSED'}")
    for name, limit in page_targets:
        median = page_results[name][0]
        print(f"  {name:<{width}}  {median:7.2f} ms < {limit:.0f} ms: {'met' if median < limit else 'MISSED'}")
    if scored:
        # The point of the score indexes: a sort by score is a range scan of its (value, customer) index.
        print("\nscore sorts on their index (the first page's plan):")
        for key in SCORE_SORT_KEYS:
            index = "score_importance" if key == "importance" else f"score_{key}_list"
            plan = plans[f"first page sorted -{key}"]
            verdict = "yes" if index in plan and "SEQ SCAN" not in plan else "NO (sorts the table)"
            print(f"  sorted -{key} reads {index}: {verdict}")


if __name__ == "__main__":
    main()
