"""seed_demo makes a believable shop whose stored figures agree with each other."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Q, Sum

from customers.models import Channel, Customer, CustomerPhone
from orders.models import Order, OrderItem, OrderStatusChange
from orders.services import customer_summaries_refresh
from shop.phones import normalize_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> None:
    call_command("seed_demo", customers=300, seed=11, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_every_customer_has_a_unique_valid_mobile_number(seeded):
    numbers = list(CustomerPhone.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == Customer.objects.count() == 300
    assert all(normalize_phone(n) == n and n.startswith("+79") for n in numbers)


def test_a_full_summary_refresh_finds_nothing_to_change(seeded):
    assert customer_summaries_refresh() == 0


def _summaries_differ() -> bool:
    counted = ~Q(orders__status="cancelled")
    spent = counted & ~Q(orders__status="returned")
    for customer in Customer.objects.annotate(
        n=Count("orders", filter=counted),
        s=Sum("orders__total", filter=spent),
        first=Min("orders__placed_at", filter=counted),
        last=Max("orders__placed_at", filter=counted),
    ):
        if (customer.orders_count, customer.total_spent, customer.first_order_at, customer.last_order_at) != (
            customer.n,
            customer.s or Decimal("0"),
            customer.first,
            customer.last,
        ):
            return True
    return False


def test_stored_summaries_are_already_exact(seeded):
    assert not _summaries_differ()


def test_each_order_has_items_adding_up_and_a_status_row(seeded):
    for order in Order.objects.annotate(items_sum=Sum("items__price")).order_by("?")[:200]:
        assert order.items_sum == order.subtotal > 0
        assert order.total == order.subtotal - order.discount_total + order.delivery_cost
        last_change = order.status_changes.last()
        assert last_change is not None and last_change.to_status == order.status
    assert OrderStatusChange.objects.count() == Order.objects.count()


def test_delivered_time_is_set_exactly_for_delivered_and_returned_orders(seeded):
    assert not Order.objects.filter(status__in=["delivered", "returned"], delivered_at__isnull=True).exists()
    assert not Order.objects.exclude(status__in=["delivered", "returned"]).filter(delivered_at__isnull=False).exists()


def test_channels_differ_in_retention(seeded):
    per_channel = dict(Customer.objects.values_list("channel").annotate(n=Count("id")).values_list("channel", "n"))
    assert set(per_channel) >= {Channel.SEARCH_ADS, Channel.ORGANIC, Channel.SOCIAL, Channel.MARKETPLACE}
    loyal = Customer.objects.filter(channel__in=[Channel.EMAIL, Channel.REFERRAL]).aggregate(x=Sum("orders_count"))["x"]
    fleeting = Customer.objects.filter(channel=Channel.MARKETPLACE).aggregate(x=Sum("orders_count"))["x"]
    loyal_n = per_channel.get(Channel.EMAIL, 0) + per_channel.get(Channel.REFERRAL, 0)
    assert loyal / loyal_n > fleeting / per_channel[Channel.MARKETPLACE]


def test_if_empty_leaves_an_existing_shop_alone(seeded):
    orders = Order.objects.count()
    call_command("seed_demo", customers=50, if_empty=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Order.objects.count() == orders and Customer.objects.count() == 300


def test_seeding_twice_adds_a_second_batch_without_collisions(seeded):
    call_command("seed_demo", customers=100, seed=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Customer.objects.count() == 400
    assert CustomerPhone.objects.values("number").distinct().count() == 400


def test_insert_path_writes_the_same_kind_of_shop():
    call_command("seed_demo", customers=40, seed=3, method="insert", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Customer.objects.count() == 40
    assert OrderItem.objects.exists()
    assert not _summaries_differ()
