"""``manage.py seed_demo --customers N``: a believable shop's last two years, written in bulk.

Every table is written with COPY, for the demo's 3,000 customers (seconds) as for the benchmarks' million (minutes).
Every chunk of customers is one transaction; ids come from the tables' own sequences, so a second run adds a second
shop's worth of customers beside the first, and ``--workers`` processes write chunks side by side.
"""

import time
from datetime import UTC, timedelta
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from customers.models import Customer, Tag
from demo.seed.runner import Plan, run_chunks
from demo.seed.shop import ChunkCounts, Period
from demo.seed.vocabulary import TAGS
from shop.models import ShopSettings


class Command(BaseCommand):
    help = "Create a believable demo shop: customers with two years of orders, written in bulk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=3000)
        parser.add_argument("--years", type=float, default=2.0, help="how far back the shop's history goes")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable shop")
        parser.add_argument(
            "--chunk", type=int, default=25_000, help="customers per transaction (about 0.5 GB of memory per worker)"
        )
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any customer exists")
        parser.add_argument("--workers", type=int, default=1, help="processes writing chunks side by side")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 0 or options["chunk"] < 1 or options["years"] <= 0 or options["workers"] < 1:
            raise CommandError("--customers must be ≥ 0, --chunk and --workers ≥ 1, --years > 0")
        if options["if_empty"] and Customer.objects.exists():
            self.stdout.write("Customers exist already: the demo data is left as it is.")
            return
        now = timezone.now()
        days = options["years"] * 365.25
        plan = Plan(
            period=Period(
                start=np.datetime64((now - timedelta(days=days)).astimezone(UTC).replace(tzinfo=None), "us"),
                days=days,
                now=np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us"),
            ),
            currency=ShopSettings.load().currency,
            tag_ids={name: Tag.objects.get_or_create(name=name)[0].pk for name in TAGS},
            # One entropy for the run; each chunk draws from its own stream, so a seeded shop is the same shop
            # whichever worker writes which chunk.
            entropy=int(np.random.SeedSequence(options["seed"]).entropy),  # type: ignore[arg-type]
        )
        sizes = [
            min(options["chunk"], options["customers"] - start)
            for start in range(0, options["customers"], options["chunk"])
        ]
        totals = ChunkCounts()
        started = time.monotonic()
        for counts, seconds, rows in run_chunks(plan, sizes, options["workers"]):
            totals.add(counts)
            self.stdout.write(
                f"  {totals.customers:>10,} customers {totals.orders:>11,} orders  "
                f"(chunk: {counts.orders:,} orders, {rows:,} rows in {seconds:.1f} s, {rows / max(seconds, 1e-9):,.0f} rows/s)"
            )
        # Fresh planner statistics for the tables COPY just filled: autovacuum gets to them only after a while, and
        # until then a changed order's rescore was planned as a bitmap AND over every delivered order (1.6 s on a
        # million customers instead of 4 ms).
        if sizes:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {totals.customers:,} customers, {totals.orders:,} orders, {totals.items:,} order lines and "
                f"{totals.status_changes:,} status changes in {elapsed:.1f} s (COPY, {options['workers']} worker(s))."
            )
        )
