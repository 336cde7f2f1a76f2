"""Order ingestion through the API: batches of 1,000 orders POSTed to gunicorn for a fixed time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_apibench .venv/bin/python bench/api_upsert.py \
        [--seconds 30] [--workers 2] [--clients 2]

Add REDIS_URL=redis://127.0.0.1:6379/0 for the Redis broker; without it the web process sends to the embedded
(filesystem) broker. The runs add orders and customers, so each set of runs starts from a fresh copy of a base
seeded once (100,000 customers, about 2 min):

    createdb retain_apibench_seed
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_apibench_seed .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_apibench_seed .venv/bin/python manage.py seed_demo \
        --customers 100000 --seed 2026 --workers 2
    dropdb --if-exists retain_apibench && createdb -T retain_apibench_seed retain_apibench

Every run sends order ids of its own (``b<run>-<sender>-<batch>-<row>``, the run tagged by the clock): before, each
run replayed the ids of the runs before it, so on one base the second and third runs found most of their "new"
orders already stored and unchanged (no write), cost 40 % less CPU per order and reported the faster figures.
Likewise its new customers: each sender's random numbers are seeded by the run, so a later run does not find the
last run's new customers already stored.

Before the clock starts, every sender posts one-order batches until the workers answer them within a second (the
workers' first requests import half the project). Each batch mixes new orders of existing customers (matched by phone), orders of new customers, and status updates
of orders sent earlier, as a shop platform's sync does. Prints orders per second and the latency of a batch. Loopback
only; the loop is bounded by time.
"""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

STATUSES = ["new", "paid", "shipped", "delivered"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU each process has used, from /proc (Linux); processes gone since are left out."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def server_processes(master: int) -> list[int]:
    """The gunicorn workers and the PostgreSQL backends of this database (but this script's own)."""
    from django.db import connection

    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = [row[0] for row in cursor.fetchall()]
    return [int(pid) for pid in children] + backends


def post(port: int, token: str, rows: list[dict]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request(
        "POST",
        "/api/v1/orders",
        body=json.dumps({"orders": rows}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    return response.status, response.read()


def warm_up(port: int, token: str, clients: int, known: list[str], run: str) -> int:
    """One-order batches from every sender at once, round after round, until a round answers within a second (each
    worker has imported what its first request needs), at most ten rounds; returns the rounds. On a loaded machine
    the first request of a worker took half a minute, which measured the imports rather than the ingestion."""
    rng = random.Random(-1)
    for round_number in range(1, 11):
        rows = [batch(rng, f"{run}-w{client}", round_number, known, 1) for client in range(clients)]
        started = time.monotonic()
        threads = [threading.Thread(target=post, args=(port, token, row)) for row in rows]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if time.monotonic() - started < 1:
            return round_number
    return 10


def batch(rng: random.Random, client: str, number: int, known_phones: list[str], size: int) -> list[dict]:
    rows = []
    for n in range(size):
        roll = rng.random()
        if roll < 0.2 and number > 0:  # an update of an order this client sent before
            external_id = f"b{client}-{rng.randrange(number)}-{rng.randrange(size)}"
            status = rng.choice(STATUSES[1:])
        else:
            external_id = f"b{client}-{number}-{n}"
            status = "new"
        phone = rng.choice(known_phones) if roll < 0.7 and known_phones else f"+7998{rng.randrange(10**7):07d}"
        price = f"{rng.randrange(300, 20000)}.00"
        rows.append(
            {
                "source": "bench",
                "external_id": external_id,
                "status": status,
                "placed_at": "2026-11-20T12:00:00+03:00",
                "total": price,
                "items": [{"sku": "EL-001", "name": "Наушники", "price": price}],
                "customer": {"name": "Покупатель", "phones": [phone]},
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=2, help="concurrent senders")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    import django

    django.setup()
    from customers.models import Customer, CustomerPhone
    from shop.roles import Capability
    from shop.services import token_issue

    token = token_issue(name="bench import", scopes=[Capability.IMPORT], created_by=None, sources=["bench"]).key
    customers = Customer.objects.count()
    known = list(CustomerPhone.objects.order_by("?").values_list("number", flat=True)[:20000]) if customers else []

    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "crm.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(args.workers),
            "--timeout",
            "120",
            "--access-logfile",
            "/dev/null",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING", "DEBUG": "false"},
    )
    latencies: list[float] = []
    orders = 0
    errors = 0
    lock = threading.Lock()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/healthz")
                probe.getresponse().read()
                break
            except OSError:
                time.sleep(0.3)

        run = f"{time.time_ns() // 1_000_000:x}"  # this run's own order ids, whatever ran on the base before
        rounds = warm_up(port, token, args.clients, known, run)

        def sender(client: int) -> None:
            nonlocal orders, errors
            rng = random.Random(f"{run}-{client}")  # new customers of its own too, not the last run's again
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            stop = started + args.seconds
            number = 0
            while time.monotonic() < stop:
                body = json.dumps({"orders": batch(rng, f"{run}-{client}", number, known, args.batch)})
                sent = time.monotonic()
                connection.request(
                    "POST",
                    "/api/v1/orders",
                    body=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                response = connection.getresponse()
                payload = response.read()
                elapsed = time.monotonic() - sent
                with lock:
                    latencies.append(elapsed * 1000)
                    if response.status == 200:
                        orders += len(json.loads(payload)["results"])
                    else:
                        errors += 1
                number += 1

        before = cpu_seconds(server_processes(server.pid))
        started = time.monotonic()
        threads = [threading.Thread(target=sender, args=(c,)) for c in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        after = cpu_seconds(server_processes(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"customers in the database before: {customers:,}")
    print(f"gunicorn workers: {args.workers}, concurrent senders: {args.clients}, batch: {args.batch}")
    print(f"warm-up rounds of one-order batches (not counted): {rounds}")
    print(f"orders upserted: {orders:,} in {wall:.1f} s = {orders / wall:,.0f} orders/s")
    print(
        f"batch latency ms: median {statistics.median(latencies):.0f}, max {max(latencies):.0f}; failed batches: {errors}"
    )
    # What the server spent, whatever else ran on the machine: on a shared machine this says more than the rate.
    used = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    print(
        f"server CPU (gunicorn workers and their PostgreSQL backends): {used:.1f} s = {used / orders * 1000:.2f} s per"
        f" 1,000 orders; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
