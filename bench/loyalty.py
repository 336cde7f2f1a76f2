"""Loyalty at scale: the issue's four figures, each printed with the load average of the shared machine around it.

    # rule preview on the scored base, read-only (the connection is set read-only before anything runs)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench .venv/bin/python bench/loyalty.py preview [--runs 5]
    # a quote through gunicorn (2 workers, loopback) with 50 active rules; writes rules and a token
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_loyaltybench .venv/bin/python bench/loyalty.py quote \
        [--requests 2000] [--threads 2]
    # accrual for 10,000 delivered orders through one real Celery worker (switches the database's other rules off)
    DATABASE_URL=…/retain_loyaltybench REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/loyalty.py accrual
    # the nightly expiry over N balances, each with one lot past its date; then run again (must expire nothing);
    # --workers connections side by side, as the nightly task runs it (1 for the single-connection figure)
    DATABASE_URL=…/retain_loyaltybench .venv/bin/python bench/loyalty.py expiry [--balances 1000000] [--workers 2]

The quote, accrual and expiry write rules, accounts and ledger rows (the expiry empties the ledger first): give them a
database of their own, seeded with
``manage.py seed_demo`` and scored with ``manage.py scoring_run``. Every request loop is bounded in count and
time and talks to 127.0.0.1 only.
"""

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
BENCH = "bench-loyalty"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


class BackendCpu:
    """CPU (user + system, from /proc) of this database's other PostgreSQL backends while a step runs: a sampler
    thread lists them every 0.2 s and keeps each one's last reading, so connections that a step opens and closes are
    counted (up to their last sample). Load-independent where wall time is not."""

    def __init__(self) -> None:
        from django.db import connections

        self.connection = connections.create_connection("default")  # the sampler's own, outside the step's
        self.connection.inc_thread_sharing()  # made here, used by the sampler thread
        self.seen: dict[int, float] = {}
        self.start: dict[int, float] = {}
        self.running = False
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            pids = [row[0] for row in cursor.fetchall()]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used = (int(fields[11]) + int(fields[12])) / tick
            self.start.setdefault(pid, used)
            self.seen[pid] = used

    def loop(self) -> None:
        while self.running:
            self.sample()
            time.sleep(0.2)

    def __enter__(self) -> "BackendCpu":
        self.sample()
        self.running = True
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.sample()
        self.connection.close()

    @property
    def seconds(self) -> float:
        return sum(used - self.start[pid] for pid, used in self.seen.items())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def preview(args: argparse.Namespace) -> None:
    """Three rules of different shapes, previewed over the whole score table; nothing is saved."""
    from django.db import connection

    from loyalty.models import LoyaltyRule
    from loyalty.preview import rule_preview
    from scoring.models import CustomerScore

    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    win_back = {"value_kind": "percent", "curve": "linear", "risk_from": "0.5", "risk_to": "0.9", "value_from": "5",
                "value_to": "20", "risk_threshold": "0.5", "clv_reference": "5000", "cap": "25"}  # fmt: skip
    rules = [
        LoyaltyRule(pk=900001, name="win-back", kind="win_back", params=win_back, control_share=Decimal("0.1")),
        LoyaltyRule(pk=900002, name="tiers", kind="cumulative",
                    params={"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]}),
        LoyaltyRule(pk=900003, name="vip", kind="vip_perk", params={"perk": "free_delivery", "percent": "3"},
                    tiers=["vip", "high"], control_share=Decimal("0.2")),
    ]  # fmt: skip
    print(f"{CustomerScore.objects.count():,} scores; {platform.node()}")
    for rule in rules:
        times = []
        for _ in range(args.runs):
            before = load_average()
            started = time.perf_counter()
            result = rule_preview(rule)
            seconds = time.perf_counter() - started
            times.append(seconds)
        print(
            f"preview {rule.name}: median {statistics.median(times):.2f} s, max {max(times):.2f} s over {args.runs} "
            f"runs; {result.qualifying:,} qualify, {result.control:,} held out, 30-day cost {result.estimated_cost}; "
            f"{before}, after: {load_average()}"
        )


def _bench_rules(count: int) -> None:
    """``count`` active rules of the automatic kinds, each narrowed to two segments, half of them stackable."""
    from loyalty.models import LoyaltyRule

    LoyaltyRule.objects.filter(name__startswith=BENCH).delete()
    rng = random.Random(14)
    segments = ["champions", "loyal", "potential_loyalists", "at_risk", "cant_lose", "hibernating", "lost"]
    shapes = [
        ("cumulative", {"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]}),
        ("win_back", {"value_kind": "percent", "curve": "linear", "risk_from": "0.4", "risk_to": "0.9",
                      "value_from": "5", "value_to": "20", "risk_threshold": "0.4", "cap": "25"}),
        ("vip_perk", {"perk": "free_delivery", "percent": "3"}),
        ("store_credit", {"accrual_kind": "percent", "value": "5", "expires_days": 90, "max_share_percent": "30"}),
    ]  # fmt: skip
    LoyaltyRule.objects.bulk_create(
        [
            LoyaltyRule(
                name=f"{BENCH} {n}",
                kind=shapes[n % 4][0],
                params=shapes[n % 4][1],
                is_active=True,
                segments=rng.sample(segments, 2),
                stacking="stack" if n % 2 else "best",
                max_total_percent=Decimal("15"),
                control_share=Decimal("0.1"),
            )
            for n in range(count)
        ]
    )


def _serve(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "LOG_LEVEL": "WARNING", "DEBUG": "false"}
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "crm.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--access-logfile", "/dev/null", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return server, port
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not start in time")


def _send(port: int, token: str, ids: list[int], requests: int, threads: int) -> tuple[list[float], int]:
    """Closed loop: each thread keeps one connection and sends its share of ``requests`` one after another."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + 300

    def worker(index: int) -> None:
        nonlocal errors
        rng = random.Random(index)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for _ in range(index, requests, threads):
            if time.monotonic() > deadline:
                return
            body = json.dumps({"customer": {"id": rng.choice(ids)}, "cart": {"total": f"{rng.randint(500, 20000)}.00"}})
            sent = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/loyalty/quote", body=body, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                ok = False
            with lock:
                latencies.append((time.perf_counter() - sent) * 1000)
                errors += 0 if ok else 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, errors


def quote(args: argparse.Namespace) -> None:
    from scoring.models import CustomerScore
    from shop.roles import Capability
    from shop.services import token_issue

    _bench_rules(args.rules)
    top = CustomerScore.objects.order_by("-customer_id").values_list("customer_id", flat=True).first() or 0
    sample = random.Random(7).sample(range(1, top + 1), min(20000, top))
    ids = list(CustomerScore.objects.filter(customer_id__in=sample).values_list("customer_id", flat=True)[:5000])
    if not ids:
        raise SystemExit("No scored customers: seed_demo and scoring_run first")
    token = token_issue(name=f"{BENCH} quote", scopes=[Capability.QUOTE], created_by=None).key
    server, port = _serve(args.workers)
    try:
        _send(port, token, ids, 100, args.threads)  # warm the workers and the caches
        before = load_average()
        latencies, errors = _send(port, token, ids, args.requests, args.threads)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"quote, {args.rules} active rules, {CustomerScore.objects.count():,} scored customers, gunicorn "
        f"{args.workers} workers, {args.threads} client threads: {len(latencies):,} requests, {errors} errors; "
        f"median {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, "
        f"p99 {percentile(latencies, 0.99):.1f} ms; before: {before}; after: {load_average()}"
    )


def accrual(args: argparse.Namespace) -> None:
    """A store-credit rule and a next-order coupon rule; ``--orders`` delivered orders accrued by the worker."""
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: the accrual goes through a real worker.")
    from crm.celery import app
    from loyalty.models import Coupon, LedgerEntry, LoyaltyRule
    from loyalty.tasks import loyalty_accrue_task
    from orders.models import Order, OrderStatus

    LoyaltyRule.objects.filter(is_active=True).update(is_active=False)
    LoyaltyRule.objects.filter(name__startswith=f"{BENCH} accrual").delete()
    credit = LoyaltyRule.objects.create(
        name=f"{BENCH} accrual credit", kind="store_credit", is_active=True,
        params={"accrual_kind": "percent", "value": "5", "expires_days": 90, "max_share_percent": "30"},
    )  # fmt: skip
    coupon = LoyaltyRule.objects.create(
        name=f"{BENCH} accrual coupon", kind="next_order_coupon", is_active=True,
        params={"value_kind": "percent", "value": "10", "valid_days": 30},
    )  # fmt: skip
    order_ids = list(
        Order.objects.filter(status=OrderStatus.DELIVERED).order_by("-pk").values_list("pk", flat=True)[: args.orders]
    )
    queue = f"{BENCH}-{os.getpid()}"
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "crm", "worker", "--pool=solo", "-Q", queue, "-n", f"{queue}@%h",
         "--loglevel=WARNING"],
        cwd=ROOT, env={**os.environ, "DEBUG": "false"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not any(queue in name for reply in app.control.ping(timeout=1.0) or [] for name in reply):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("The worker did not start.")
        before = load_average()
        started = time.monotonic()
        for start in range(0, len(order_ids), 1000):
            loyalty_accrue_task.apply_async((order_ids[start : start + 1000],), queue=queue)
        finished, done = started + args.seconds, 0
        while time.monotonic() < finished:
            done = LedgerEntry.objects.filter(rule=credit).count()
            if done >= len(order_ids):
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    coupons = Coupon.objects.filter(rule=coupon).count()
    print(
        f"accrual of {len(order_ids):,} delivered orders through one solo worker: {done:,} accrued in {seconds:.1f} s "
        f"({done / seconds:,.0f} orders/s; {coupons:,} coupons); before: {before}; after: {load_average()}"
    )


def expiry(args: argparse.Namespace) -> None:
    """``--balances`` accounts, each with one credit lot that expired yesterday, written set-based (two ``INSERT …
    SELECT`` from the customers, not timed); then the nightly expiry, timed, and a second run that must expire
    nothing."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from customers.models import Customer
    from loyalty.models import LedgerEntry, LoyaltyAccount
    from loyalty.services import credit_expire_due

    ledger, accounts, customers = (m._meta.db_table for m in (LedgerEntry, LoyaltyAccount, Customer))
    chosen = f"SELECT id FROM {customers} ORDER BY id LIMIT %(n)s"  # noqa: S608  (table names from the models)
    amount, past = Decimal("100.00"), timezone.now() - timedelta(days=1)
    values = {"n": args.balances, "amount": amount, "past": past, "posted": past - timedelta(days=90)}
    with transaction.atomic(), connection.cursor() as cursor:
        # A repeat of the bench starts clean: the bench's own database, so the whole ledger goes (deleting lots row by
        # row would check each against every expiry row, ledger rows are never deleted otherwise).
        cursor.execute(f"TRUNCATE {ledger}, {accounts}")
        cursor.execute(
            f"INSERT INTO {accounts} (customer_id, balance, updated_at) "  # noqa: S608
            f"SELECT id, %(amount)s, %(posted)s FROM ({chosen}) AS c",
            values,
        )
        cursor.execute(
            f"INSERT INTO {ledger} (customer_id, kind, purpose, amount, balance_after, remaining, expires_at, "  # noqa: S608
            f"reason, created_at) SELECT id, 'accrual', 'owner', %(amount)s, %(amount)s, %(amount)s, %(past)s, '', "
            f"%(posted)s FROM ({chosen}) AS c ORDER BY id",
            values,
        )
        balances = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ledger}")
        cursor.execute(f"ANALYZE {accounts}")
        cursor.execute("CHECKPOINT")  # every run starts with the same full-page writes ahead of it
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        start = cursor.fetchone()[0]
    before = load_average()
    own = time.process_time()
    with BackendCpu() as backends:
        seconds, expired = timed(lambda: credit_expire_due(workers=args.workers))
    own = time.process_time() - own
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", [start])
        wal = cursor.fetchone()[0] / 2**20
    again_seconds, again = timed(lambda: credit_expire_due(workers=args.workers))
    print(
        f"expiry over {balances:,} balances, {args.workers} connection(s): {expired:,} lots expired in {seconds:.1f} s "
        f"(WAL written meanwhile by the whole server: {wal:,.0f} MB); the second run expired {again} in "
        f"{again_seconds:.1f} s; before: {before}; after: {load_average()}"
    )
    print(f"CPU of the expiry: PostgreSQL backends {backends.seconds:.1f} s, this process {own:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="figure", required=True)
    sub.add_parser("preview").add_argument("--runs", type=int, default=5)
    quote_parser = sub.add_parser("quote")
    quote_parser.add_argument("--requests", type=int, default=2000)
    quote_parser.add_argument("--threads", type=int, default=2)
    quote_parser.add_argument("--workers", type=int, default=2)
    quote_parser.add_argument("--rules", type=int, default=50)
    accrual_parser = sub.add_parser("accrual")
    accrual_parser.add_argument("--orders", type=int, default=10000)
    accrual_parser.add_argument("--seconds", type=int, default=300, help="stop waiting after this long")
    expiry_parser = sub.add_parser("expiry")
    expiry_parser.add_argument("--balances", type=int, default=1000000)
    expiry_parser.add_argument("--workers", type=int, default=2, help="connections side by side (the nightly task's 2)")
    args = parser.parse_args()
    import django

    django.setup()
    {"preview": preview, "quote": quote, "accrual": accrual, "expiry": expiry}[args.figure](args)


if __name__ == "__main__":
    main()
