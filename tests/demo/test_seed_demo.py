"""seed_demo makes a believable shop whose stored figures agree with each other, written with COPY."""

import re
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from customers.channels import classify_channel
from customers.models import Channel, Customer, CustomerEmail, CustomerExternalId, CustomerPhone
from demo.seed.shop import PHONE_MULTIPLIER, PHONE_OFFSET, PHONE_SPACE
from demo.seed.vocabulary import FEMALE_FIRST, MALE_FIRST
from orders.models import ALLOWED_TRANSITIONS, Order, OrderItem, OrderStatus, OrderStatusChange
from orders.services import customer_summaries_refresh
from shop.phones import normalize_phone

pytestmark = pytest.mark.django_db
SEVEN_CHANNELS = {"search_ads", "organic", "social", "marketplace", "referral", "email", "direct"}


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded() -> None:
    seed(customers=300, seed=11)


def summary_mismatches() -> list[int]:
    """Customers whose stored summary differs from an aggregate of their orders (services' definition)."""
    counted = ~Q(orders__status=OrderStatus.CANCELLED)
    spent = counted & ~Q(orders__status=OrderStatus.RETURNED)
    return [
        c.pk
        for c in Customer.objects.annotate(
            n=Count("orders", filter=counted),
            s=Sum("orders__total", filter=spent),
            first=Min("orders__placed_at", filter=counted),
            last=Max("orders__placed_at", filter=counted),
        )
        if (c.orders_count, c.total_spent, c.first_order_at, c.last_order_at)
        != (c.n, c.s or Decimal("0"), c.first, c.last)
    ]


def history_problems() -> list[str]:
    """Orders whose status-change rows do not walk the pipeline from nothing to the order's status."""
    changes = defaultdict(list)
    for change in OrderStatusChange.objects.order_by("order_id", "changed_at", "id"):
        changes[change.order_id].append(change)
    problems = []
    for order in Order.objects.all():
        rows = changes[order.pk]
        steps = [(c.from_status, c.to_status) for c in rows]
        walks = bool(rows) and rows[0].from_status == "" and rows[0].to_status == OrderStatus.NEW
        walks = walks and all(a[1] == b[0] and b[1] in ALLOWED_TRANSITIONS[b[0]] for a, b in pairwise(steps))
        ends = bool(rows) and rows[-1].to_status == order.status and rows[-1].changed_at == order.status_changed_at
        if not (walks and ends and all(c.origin == "demo" for c in rows)):
            problems.append(f"{order.pk} {order.status}: {steps}")
    return problems


def test_every_customer_has_a_unique_valid_mobile_number(seeded: None) -> None:
    numbers = list(CustomerPhone.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == Customer.objects.count() == 300
    assert all(normalize_phone(n) == n and re.fullmatch(r"\+79\d{9}", n) for n in numbers)


def test_email_addresses_are_unique_lower_case_and_on_most_customers(seeded: None) -> None:
    addresses = list(CustomerEmail.objects.values_list("address", flat=True))
    assert len(addresses) == len(set(addresses))
    assert all(a == a.lower() and re.fullmatch(r"[a-z0-9._]+@[a-z.]+\.[a-z]+", a) for a in addresses)
    assert 0.4 < len(addresses) / 300 < 0.85


def test_names_are_russian_with_the_surname_in_the_first_names_gender(seeded: None) -> None:
    for name in Customer.objects.values_list("name", flat=True):
        first, surname = name.split(" ")
        assert first in MALE_FIRST or first in FEMALE_FIRST
        assert surname.endswith(("а", "ая")) == (first in FEMALE_FIRST), name


def test_stored_summaries_match_an_aggregate_of_the_orders(seeded: None) -> None:
    assert Order.objects.count() > 1000
    assert summary_mismatches() == []
    assert customer_summaries_refresh() == 0


def test_every_status_history_walks_the_pipeline_to_the_orders_status(seeded: None) -> None:
    assert history_problems() == []
    # Delivered orders came through more than one step: the history is not a single arrival row.
    assert OrderStatusChange.objects.count() > 3 * Order.objects.count()


def test_delivered_time_is_set_exactly_for_delivered_and_returned_orders(seeded: None) -> None:
    delivered_like = [OrderStatus.DELIVERED, OrderStatus.RETURNED]
    assert not Order.objects.filter(status__in=delivered_like, delivered_at__isnull=True).exists()
    assert not Order.objects.exclude(status__in=delivered_like).filter(delivered_at__isnull=False).exists()
    assert not Order.objects.filter(delivered_at__lt=F("placed_at")).exists()


def test_old_orders_are_settled_and_recent_ones_still_on_their_way(seeded: None) -> None:
    now = timezone.now()
    shares = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    total = sum(shares.values())
    assert 0.02 < shares[OrderStatus.CANCELLED] / total < 0.09
    assert 0.01 < shares[OrderStatus.RETURNED] / total < 0.06
    assert shares[OrderStatus.DELIVERED] / total > 0.8
    old = Order.objects.filter(placed_at__lt=now - timedelta(days=40))
    assert not old.filter(status__in=[OrderStatus.NEW, OrderStatus.PAID, OrderStatus.SHIPPED]).exists()
    assert not Order.objects.filter(placed_at__gt=now).exists()
    assert not Order.objects.filter(placed_at__lt=now - timedelta(days=732)).exists()


def test_all_seven_channels_appear_with_utm_tags_that_classify_to_them(seeded: None) -> None:
    rows = Customer.objects.values_list("channel", "utm_source", "utm_medium", "referred_by_id")
    assert {channel for channel, *_ in rows} == SEVEN_CHANNELS
    for channel, source, medium, referrer in rows:
        assert classify_channel(source, medium, referrer_customer=referrer is not None) == channel
    assert Customer.objects.filter(referred_by__isnull=False).exists()
    assert not Customer.objects.filter(referred_by__isnull=False).exclude(channel=Channel.REFERRAL).exists()


def test_friends_and_newsletter_readers_come_back_more_than_marketplace_buyers(seeded: None) -> None:
    def orders_per_customer(channels: list[str]) -> float:
        found = Customer.objects.filter(channel__in=channels).aggregate(n=Count("id"), orders=Sum("orders_count"))
        return found["orders"] / found["n"]

    assert orders_per_customer([Channel.EMAIL, Channel.REFERRAL]) > orders_per_customer([Channel.MARKETPLACE])


def test_money_is_non_negative_decimal_and_adds_up(seeded: None) -> None:
    lines = dict(
        OrderItem.objects.values("order_id").annotate(s=Sum(F("price") * F("quantity"))).values_list("order_id", "s")
    )
    for order in Order.objects.all():
        assert isinstance(order.total, Decimal) and order.total >= 0 and order.discount_total >= 0
        assert order.total == order.subtotal - order.discount_total + order.delivery_cost
        assert lines[order.pk] == order.subtotal > 0
    assert all(isinstance(c.total_spent, Decimal) and c.total_spent >= 0 for c in Customer.objects.all())


def test_consent_comes_with_its_time_source_and_audit_row(seeded: None) -> None:
    for customer in Customer.objects.prefetch_related("consent_changes"):
        granted = {c.channel: c for c in customer.consent_changes.all()}
        assert customer.email_consent == ("email" in granted)
        assert customer.sms_consent == ("sms" in granted)
        if customer.email_consent:
            assert customer.email_consent_at == granted["email"].changed_at >= customer.created_at
            assert customer.email_consent_source == granted["email"].source != ""
            assert customer.emails.exists()


def test_every_foreign_key_points_at_a_row() -> None:
    """The COPY path may skip the key triggers; the rows must be right by construction."""
    seed(customers=120, seed=5)
    checks = {
        "orders_order": ("customer_id", "customers_customer"),
        "orders_orderitem": ("order_id", "orders_order"),
        "orders_orderstatuschange": ("order_id", "orders_order"),
        "customers_customerphone": ("customer_id", "customers_customer"),
        "customers_customeremail": ("customer_id", "customers_customer"),
        "customers_customer_tags": ("customer_id", "customers_customer"),
        "customers_note": ("customer_id", "customers_customer"),
        "customers_consentchange": ("customer_id", "customers_customer"),
    }
    with connection.cursor() as cursor:
        for table, (column, target) in [
            *checks.items(),
            ("customers_customer", ("referred_by_id", "customers_customer")),
        ]:
            cursor.execute(
                f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL "  # noqa: S608 (constants above)
                f"AND NOT EXISTS (SELECT 1 FROM {target} r WHERE r.id = t.{column})"
            )
            assert cursor.fetchone()[0] == 0, table


def test_if_empty_leaves_an_existing_shop_alone(seeded: None) -> None:
    orders = Order.objects.count()
    out = seed(customers=50, if_empty=True)
    assert "left as it is" in out
    assert Order.objects.count() == orders and Customer.objects.count() == 300


def test_seeding_twice_with_the_same_seed_adds_a_second_shop_without_collisions(seeded: None) -> None:
    seed(customers=300, seed=11)
    assert Customer.objects.count() == 600
    assert CustomerPhone.objects.values("number").distinct().count() == 600
    assert CustomerExternalId.objects.values("external_id").distinct().count() == 600
    assert Order.objects.values("external_id").distinct().count() == Order.objects.count()
    assert summary_mismatches() == []


def test_a_number_a_real_customer_holds_is_not_given_again() -> None:
    real = Customer.objects.create(name="Настоящий Клиент")
    next_id = real.pk + 1  # the sequence's next value: nothing else writes customers in this test
    taken = f"+79{(next_id * PHONE_MULTIPLIER + PHONE_OFFSET) % PHONE_SPACE:09d}"
    CustomerPhone.objects.create(customer=real, number=taken)
    seed(customers=5, seed=1)
    assert CustomerPhone.objects.get(number=taken).customer_id == real.pk
    assert CustomerPhone.objects.values("number").distinct().count() == 6


@pytest.mark.django_db(transaction=True)
def test_two_workers_write_every_chunk_once() -> None:
    out = seed(customers=60, seed=4, chunk=20, workers=2)
    assert "2 worker(s)" in out and out.count("rows/s") == 3
    assert Customer.objects.count() == 60
    assert CustomerPhone.objects.values("number").distinct().count() == 60
    assert summary_mismatches() == []


def test_an_empty_chunk_and_no_workers_are_refused() -> None:
    with pytest.raises(CommandError):
        seed(customers=5, workers=0)
    with pytest.raises(CommandError):
        seed(customers=5, chunk=0)
