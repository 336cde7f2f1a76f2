"""``manage.py seed_demo --customers N``: a believable shop's last two years, written in bulk.

PostgreSQL gets COPY (a million customers with about ten million orders take minutes); SQLite, the demo's default,
gets batched INSERTs (a few thousand customers take seconds). Ids are assigned here and the sequences moved past
them, so run it while nothing else writes customers or orders.
"""

import csv
import io
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer, Tag
from orders import demo
from shop.models import ShopSettings

# Phones are +79XXXXXXXXX with XXXXXXXXX a bijection of the customer id, so they never repeat.
PHONE_MULTIPLIER, PHONE_OFFSET, PHONE_SPACE = 123_456_791, 987_654, 1_000_000_000

CUSTOMER_COLUMNS = (
    "id",
    "name",
    "city",
    "address",
    "language",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "email_consent",
    "email_consent_at",
    "email_consent_source",
    "sms_consent",
    "sms_consent_at",
    "sms_consent_source",
    "orders_count",
    "total_spent",
    "first_order_at",
    "last_order_at",
    "erased_at",
    "created_at",
    "updated_at",
    "merged_into_id",
    "referred_by_id",
)
ORDER_COLUMNS = (
    "id",
    "source",
    "external_id",
    "customer_id",
    "placed_at",
    "status",
    "status_changed_at",
    "delivered_at",
    "currency",
    "subtotal",
    "discount_total",
    "delivery_cost",
    "total",
    "promo_code",
    "created_at",
    "updated_at",
)


def kopecks(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


class Writer:
    """Rows into tables: COPY on PostgreSQL, executemany elsewhere. ``None`` is SQL NULL."""

    def __init__(self, method: str) -> None:
        self.copy = method == "copy"

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        with connection.cursor() as cursor:
            if self.copy:
                buffer = io.StringIO()
                out = csv.writer(buffer, lineterminator="\n")
                count = 0
                for row in rows:
                    out.writerow(["\\N" if v is None else v for v in row])
                    count += 1
                buffer.seek(0)
                cursor.copy_expert(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
                )
                return count
            rows = list(rows)
            placeholders = ", ".join(["%s"] * len(columns))
            # Table and column names are this module's constants, never input.
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)  # noqa: S608
            return len(rows)

    def advance_sequence(self, table: str) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(max(id), 1) FROM {table}))"  # noqa: S608
                )


def next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {table}")  # noqa: S608 (a fixed table name)
        return int(cursor.fetchone()[0])


class Command(BaseCommand):
    help = "Create a believable demo shop: customers with two years of orders, in bulk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=3000)
        parser.add_argument("--years", type=float, default=2.0)
        parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable shop")
        parser.add_argument("--chunk", type=int, default=50_000, help="customers per transaction")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when customers exist")
        parser.add_argument("--method", choices=["auto", "copy", "insert"], default="auto")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Customer.objects.exists():
            self.stdout.write("Customers exist already: demo data left as it is.")
            return
        method = options["method"]
        if method == "auto":
            method = "copy" if connection.vendor == "postgresql" else "insert"
        writer = Writer(method)
        rng = np.random.default_rng(options["seed"])
        now = timezone.now()
        horizon = float(options["years"]) * 365.25
        start = now - timedelta(days=horizon)
        currency = ShopSettings.load().currency
        tags = {name: Tag.objects.get_or_create(name=name)[0].pk for name in demo.TAGS}
        remaining, started = options["customers"], time.monotonic()
        totals = {"customers": 0, "orders": 0, "items": 0}
        while remaining > 0:
            n = min(options["chunk"], remaining)
            chunk_started = time.monotonic()
            with transaction.atomic():
                counts = self.seed_chunk(writer, rng, n, start, horizon, now, currency, tags)
            for key, value in counts.items():
                totals[key] += value
            remaining -= n
            spent = time.monotonic() - chunk_started
            self.stdout.write(
                f"  {totals['customers']:>9,} customers, {totals['orders']:>10,} orders "
                f"({counts['orders'] / max(spent, 1e-9):,.0f} orders/s)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {totals['customers']:,} customers, {totals['orders']:,} orders and {totals['items']:,} items "
                f"in {time.monotonic() - started:.1f} s ({method})."
            )
        )

    def seed_chunk(
        self,
        writer: Writer,
        rng: np.random.Generator,
        n: int,
        start: Any,
        horizon: float,
        now: Any,
        currency: str,
        tags: dict[str, int],
    ) -> dict[str, int]:
        people = demo.customers_chunk(rng, n, horizon, start)
        orders = demo.orders_chunk(rng, people, horizon, start)
        first_customer = next_id("customers_customer")
        ids = np.arange(first_customer, first_customer + n)
        first_order = next_id("orders_order")
        order_ids = np.arange(first_order, first_order + orders.customer.size)
        now_text = now.isoformat()

        # Each customer's summary, as orders.services.customer_summaries_refresh defines it.
        counted = orders.status != "cancelled"
        spent = counted & (orders.status != "returned")
        orders_count = np.bincount(orders.customer[counted], minlength=n)
        total_spent = np.bincount(orders.customer[spent], weights=orders.total[spent], minlength=n).astype(np.int64)
        first_at = np.full(n, np.inf)
        last_at = np.full(n, -np.inf)
        np.minimum.at(first_at, orders.customer[counted], orders.placed_at[counted])
        np.maximum.at(last_at, orders.customer[counted], orders.placed_at[counted])
        has_orders = orders_count > 0
        first_text = demo.to_utc_text(start, np.where(has_orders, first_at, 0.0))
        last_text = demo.to_utc_text(start, np.where(has_orders, last_at, 0.0))
        created_text = demo.to_utc_text(start, people.first_at)
        referrer = np.where(
            people.referred & (ids > 1), rng.integers(1, np.maximum(ids, 2)), 0
        )  # an earlier customer brought them

        def customer_rows() -> Iterable[Sequence[Any]]:
            for i in range(n):
                email_consent = bool(people.email_consent[i])
                sms_consent = bool(people.sms_consent[i])
                yield (
                    int(ids[i]),
                    people.name[i],
                    people.city[i],
                    "",
                    "ru",
                    people.channel[i],
                    people.utm_source[i],
                    people.utm_medium[i],
                    people.utm_campaign[i],
                    email_consent,
                    created_text[i] if email_consent else None,
                    "checkout" if email_consent else "",
                    sms_consent,
                    created_text[i] if sms_consent else None,
                    "checkout" if sms_consent else "",
                    int(orders_count[i]),
                    kopecks(int(total_spent[i])),
                    first_text[i] if has_orders[i] else None,
                    last_text[i] if has_orders[i] else None,
                    None,
                    created_text[i],
                    now_text,
                    None,
                    int(referrer[i]) or None,
                )

        writer.write("customers_customer", CUSTOMER_COLUMNS, customer_rows())

        phone_ids, email_ids = next_id("customers_customerphone"), next_id("customers_customeremail")
        writer.write(
            "customers_customerphone",
            ("id", "customer_id", "number", "is_primary", "created_at"),
            (
                (
                    phone_ids + i,
                    int(ids[i]),
                    f"+79{(int(ids[i]) * PHONE_MULTIPLIER + PHONE_OFFSET) % PHONE_SPACE:09d}",
                    True,
                    created_text[i],
                )
                for i in range(n)
            ),
        )
        with_email = np.flatnonzero(people.has_email)
        writer.write(
            "customers_customeremail",
            ("id", "customer_id", "address", "is_primary", "created_at"),
            (
                (
                    email_ids + k,
                    int(ids[i]),
                    f"{people.email_local[i]}.{int(ids[i])}@{people.email_domain[i]}",
                    True,
                    created_text[i],
                )
                for k, i in enumerate(with_email)
            ),
        )
        external_base = next_id("customers_customerexternalid")
        writer.write(
            "customers_customerexternalid",
            ("id", "customer_id", "source", "external_id", "created_at"),
            ((external_base + i, int(ids[i]), "demo", f"c{int(ids[i])}", created_text[i]) for i in range(n)),
        )
        consent_base = next_id("customers_consentchange")
        consents = [
            (int(ids[i]), channel, created_text[i])
            for i in range(n)
            for channel, granted in (("email", people.email_consent[i]), ("sms", people.sms_consent[i]))
            if granted
        ]
        writer.write(
            "customers_consentchange",
            ("id", "customer_id", "channel", "granted", "source", "changed_at"),
            ((consent_base + k, c, channel, True, "checkout", at) for k, (c, channel, at) in enumerate(consents)),
        )
        tagged = np.flatnonzero(people.tags >= 0)
        tag_base = next_id("customers_customer_tags")
        writer.write(
            "customers_customer_tags",
            ("id", "customer_id", "tag_id"),
            ((tag_base + k, int(ids[i]), tags[demo.TAGS[people.tags[i]]]) for k, i in enumerate(tagged)),
        )
        noted = np.flatnonzero(people.note >= 0)
        note_base = next_id("customers_note")
        writer.write(
            "customers_note",
            ("id", "customer_id", "author_id", "text", "created_at", "updated_at"),
            (
                (note_base + k, int(ids[i]), None, demo.NOTES[people.note[i]], created_text[i], created_text[i])
                for k, i in enumerate(noted)
            ),
        )

        placed_text = demo.to_utc_text(start, orders.placed_at)
        status_text = demo.to_utc_text(start, orders.status_at)
        delivered_days = np.where(orders.status == "returned", orders.placed_at + 3.0, orders.status_at)
        delivered_text = demo.to_utc_text(start, delivered_days)
        delivered_like = np.isin(orders.status, ["delivered", "returned"])
        goods = orders.total - orders.delivery + orders.discount
        owner = ids[orders.customer]

        def order_rows() -> Iterable[Sequence[Any]]:
            for k in range(order_ids.size):
                yield (
                    int(order_ids[k]),
                    "demo",
                    f"o{int(order_ids[k])}",
                    int(owner[k]),
                    placed_text[k],
                    str(orders.status[k]),
                    status_text[k],
                    delivered_text[k] if delivered_like[k] else None,
                    currency,
                    kopecks(int(goods[k])),
                    kopecks(int(orders.discount[k])),
                    kopecks(int(orders.delivery[k])),
                    kopecks(int(orders.total[k])),
                    "",
                    placed_text[k],
                    status_text[k],
                )

        writer.write("orders_order", ORDER_COLUMNS, order_rows())
        line_order, line_product, line_price = demo.item_rows(rng, goods, orders.item_count)
        item_base = next_id("orders_orderitem")
        writer.write(
            "orders_orderitem",
            ("id", "order_id", "sku", "name", "category", "quantity", "price"),
            (
                (item_base + k, int(order_ids[o]), *demo.CATALOGUE[p], "1.000", kopecks(int(price)))
                for k, (o, p, price) in enumerate(zip(line_order, line_product, line_price, strict=True))
            ),
        )
        # Historical orders arrive in their final status: one row records that arrival, as an import would.
        change_base = next_id("orders_orderstatuschange")
        writer.write(
            "orders_orderstatuschange",
            ("id", "order_id", "from_status", "to_status", "changed_at", "origin", "changed_by_id"),
            (
                (change_base + k, int(order_ids[k]), "", str(orders.status[k]), status_text[k], "demo", None)
                for k in range(order_ids.size)
            ),
        )
        for table in (
            "customers_customer",
            "customers_customerphone",
            "customers_customeremail",
            "customers_customerexternalid",
            "customers_consentchange",
            "customers_customer_tags",
            "customers_note",
            "orders_order",
            "orders_orderitem",
            "orders_orderstatuschange",
        ):
            writer.advance_sequence(table)
        return {"customers": n, "orders": int(order_ids.size), "items": int(line_order.size)}
