"""orders_upsert: matching customers, idempotency, the status pipeline and concurrency."""

import threading
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from customers.models import Customer, CustomerPhone
from customers.services import CustomerData
from orders.bulk import customer_summaries_refresh
from orders.models import ChangeOrigin, Order, OrderItem, OrderStatus, OrderStatusChange
from orders.services import ItemData, OrderData, TransitionError, order_change_status, order_upsert, orders_upsert

PLACED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def order_data(order_id: str = "A-1", status: str = OrderStatus.NEW, total: str = "1500.00", **customer: object):
    person = {"source": "web", "name": "Иван Петров", "phones": ("+79991234567",), **customer}
    return OrderData(
        source="web",
        external_id=order_id,
        customer=CustomerData(**person),  # type: ignore[arg-type]
        placed_at=PLACED,
        status=status,
        subtotal=Decimal(total),
        total=Decimal(total),
        items=(ItemData(name="Чайник", price=Decimal(total), sku="KT-1"),),
    )


@pytest.fixture(autouse=True)
def _english() -> object:
    """Messages are asserted in English; the interface default is Russian."""
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_new_order_creates_its_customer_with_phone_and_summary():
    result = order_upsert(data=order_data(), origin=ChangeOrigin.API)
    customer = Customer.objects.get()
    assert result.created and customer.name == "Иван Петров"
    assert list(customer.phones.values_list("number", flat=True)) == ["+79991234567"]
    assert (customer.orders_count, customer.total_spent, customer.last_order_at) == (1, Decimal("1500.00"), PLACED)


@pytest.mark.django_db
def test_a_batch_of_new_and_known_customers_stores_the_summaries_their_orders_give():
    """New customers get theirs at their insert, known ones from the summary refresh: both must equal a full
    recomputation from the stored orders (cancelled, returned, sub-cent totals and several orders per new person)."""
    order_upsert(data=order_data("K-0", total="100.00", phones=("+79990000001",)), origin=ChangeOrigin.API)
    later = datetime(2026, 3, 5, 9, 30, 15, 123456, tzinfo=UTC)
    batch = [
        order_data("K-1", total="50.00", phones=("+79990000001",)),
        replace(order_data("N-1", total="10.005", phones=("+79990000002",)), placed_at=later),
        order_data("N-2", OrderStatus.RETURNED, "70.00", phones=("+79990000002",)),
        order_data("N-3", OrderStatus.CANCELLED, "30.00", phones=("+79990000002",)),
        order_data("N-4", OrderStatus.CANCELLED, "40.00", phones=("+79990000003",)),
        order_data("N-5", OrderStatus.PAID, "0.005", emails=("new@example.com",), phones=()),
        order_data("N-6", OrderStatus.PAID, "0.005", emails=("new@example.com",), phones=()),
    ]
    orders_upsert(items=batch, origin=ChangeOrigin.API)
    columns = ("pk", "orders_count", "total_spent", "first_order_at", "last_order_at")
    stored = sorted(Customer.objects.values_list(*columns))
    customer_summaries_refresh()
    assert stored == sorted(Customer.objects.values_list(*columns))
    assert [row[1:] for row in stored] == [
        (2, Decimal("150.00"), PLACED, PLACED),
        (2, Decimal("10.01"), PLACED, later),
        (0, Decimal("0.00"), None, None),
        (2, Decimal("0.02"), PLACED, PLACED),
    ]


@pytest.mark.django_db
def test_second_order_with_the_same_phone_finds_the_same_customer():
    order_upsert(data=order_data("A-1"), origin=ChangeOrigin.API)
    order_upsert(data=order_data("A-2", phones=("+79991234567",), name="Другое имя"), origin=ChangeOrigin.API)
    assert Customer.objects.count() == 1
    assert Customer.objects.get().orders_count == 2


@pytest.mark.django_db
def test_customer_is_matched_by_external_id_before_phone_and_email():
    order_upsert(data=order_data("A-1", external_id="c-1", phones=("+79990000001",)), origin=ChangeOrigin.API)
    order_upsert(data=order_data("A-2", phones=("+79990000002",), emails=("x@example.com",)), origin=ChangeOrigin.API)
    order_upsert(
        data=order_data("A-3", external_id="c-1", phones=("+79990000002",), emails=("x@example.com",)),
        origin=ChangeOrigin.API,
    )
    first = CustomerPhone.objects.get(number="+79990000001").customer
    assert Order.objects.get(external_id="A-3").customer_id == first.pk


@pytest.mark.django_db
def test_customer_is_matched_by_email_when_no_phone_matches():
    order_upsert(data=order_data("A-1", phones=(), emails=("anna@example.com",)), origin=ChangeOrigin.API)
    order_upsert(
        data=order_data("A-2", phones=("+79995550000",), emails=("anna@example.com",)), origin=ChangeOrigin.API
    )
    customer = Customer.objects.get()
    assert set(customer.phones.values_list("number", flat=True)) == {"+79995550000"}


@pytest.mark.django_db
def test_replayed_order_changes_nothing():
    order_upsert(data=order_data(status=OrderStatus.PAID), origin=ChangeOrigin.WEBHOOK)
    again = order_upsert(data=order_data(status=OrderStatus.PAID), origin=ChangeOrigin.WEBHOOK)
    assert not again.created and not again.status_changed
    assert Order.objects.count() == 1
    assert OrderStatusChange.objects.count() == 1
    assert OrderItem.objects.count() == 1


@pytest.mark.django_db
def test_older_status_arriving_late_is_ignored_as_stale():
    order_upsert(data=order_data(status=OrderStatus.DELIVERED), origin=ChangeOrigin.WEBHOOK)
    late = order_upsert(data=order_data(status=OrderStatus.PAID), origin=ChangeOrigin.WEBHOOK)
    order = Order.objects.get()
    assert late.stale
    assert order.status == OrderStatus.DELIVERED and order.delivered_at is not None


@pytest.mark.django_db
def test_forbidden_transition_is_an_error_for_that_row_only():
    order_upsert(data=order_data("A-1", status=OrderStatus.DELIVERED), origin=ChangeOrigin.API)
    results = orders_upsert(
        items=[order_data("A-1", status=OrderStatus.CANCELLED), order_data("A-2", status=OrderStatus.PAID)],
        origin=ChangeOrigin.API,
    )
    assert "cannot become" in results[0].error
    assert results[1].created
    assert Order.objects.get(external_id="A-1").status == OrderStatus.DELIVERED


@pytest.mark.django_db
def test_returned_order_leaves_the_total_spent():
    order_upsert(data=order_data("A-1", status=OrderStatus.DELIVERED, total="1000.00"), origin=ChangeOrigin.API)
    order_upsert(data=order_data("A-2", status=OrderStatus.DELIVERED, total="500.00"), origin=ChangeOrigin.API)
    order_upsert(data=order_data("A-2", status=OrderStatus.RETURNED, total="500.00"), origin=ChangeOrigin.API)
    customer = Customer.objects.get()
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("1000.00"))


@pytest.mark.django_db
def test_a_batch_of_updates_stores_each_orders_own_status_amounts_and_promo_code():
    orders_upsert(items=[order_data("A-1"), order_data("A-2", total="200.00")], origin=ChangeOrigin.API)
    first = replace(order_data("A-1", status=OrderStatus.DELIVERED, total="1200.00"), promo_code="SPRING")
    second = replace(order_data("A-2", status=OrderStatus.PAID, total="250.50"), delivery_cost=Decimal("50.50"))
    orders_upsert(items=[first, second], origin=ChangeOrigin.API)

    one, two = Order.objects.order_by("external_id")
    assert (one.status, one.total, one.promo_code) == ("delivered", Decimal("1200.00"), "SPRING")
    assert one.delivered_at is not None
    assert (two.status, two.total, two.delivery_cost, two.delivered_at) == (
        "paid",
        Decimal("250.50"),
        Decimal("50.50"),
        None,
    )
    customer = Customer.objects.get()
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("1450.50"))


@pytest.mark.django_db
def test_manual_move_back_is_refused_with_its_reason_and_changes_nothing(manager):
    order_upsert(data=order_data(status=OrderStatus.SHIPPED), origin=ChangeOrigin.API)
    order = Order.objects.get()
    with pytest.raises(TransitionError, match="cannot become"):
        order_change_status(order=order, status=OrderStatus.PAID, user=manager)
    assert Order.objects.get().status == OrderStatus.SHIPPED
    assert OrderStatusChange.objects.count() == 1


@pytest.mark.django_db
def test_manual_delivery_records_who_and_when(manager):
    order_upsert(data=order_data(status=OrderStatus.SHIPPED), origin=ChangeOrigin.API)
    order = order_change_status(order=Order.objects.get(), status=OrderStatus.DELIVERED, user=manager)
    change = OrderStatusChange.objects.latest("changed_at")
    assert (change.from_status, change.to_status, change.changed_by) == ("shipped", "delivered", manager)
    assert order.delivered_at == change.changed_at


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_same_orders_leave_one_order_each_in_its_newest_status():
    statuses = [OrderStatus.NEW, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def deliver(worker: int) -> None:
        try:
            barrier.wait()
            for round_ in range(4):
                status = statuses[(worker + round_) % 4]
                orders_upsert(
                    items=[order_data(f"C-{n}", status=status, phones=(f"+7999111000{n}",)) for n in range(3)],
                    origin=ChangeOrigin.WEBHOOK,
                )
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Order.objects.count() == 3
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.DELIVERED}
    assert Customer.objects.count() == 3
    assert all(c.orders_count == 1 for c in Customer.objects.all())
