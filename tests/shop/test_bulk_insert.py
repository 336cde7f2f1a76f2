"""Inserting new rows of one model in one statement: each instance gets its id, in order, and its automatic times;
JSON and UUID columns too, and rows a unique key already holds left alone when asked."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from customers.models import Customer
from messaging.models import Channel, Message, Purpose
from orders.models import Order, OrderItem
from shop.bulk_insert import objects_insert


@pytest.mark.django_db
def test_each_inserted_instance_gets_its_own_id_and_reads_back_as_it_was_written():
    customer = Customer.objects.create(name="Анна")
    orders = [
        Order(
            source="site",
            external_id=str(n),
            customer=customer,
            placed_at=datetime(2026, 11, 20, 12, tzinfo=UTC),
            total=Decimal(n) + Decimal("0.50"),
        )
        for n in range(3)
    ]
    objects_insert(orders)
    stored = {o.pk: (o.external_id, o.total) for o in Order.objects.all()}
    assert stored == {o.pk: (o.external_id, o.total) for o in orders}
    assert all(o.updated_at is not None and not o._state.adding for o in orders)  # auto_now filled


@pytest.mark.django_db
def test_inserting_nothing_sends_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        objects_insert([])


@pytest.mark.django_db
def test_rows_that_point_at_their_parent_by_id_are_inserted():
    customer = Customer.objects.create(name="Олег")
    order = Order.objects.create(
        source="site", external_id="1", customer=customer, placed_at=datetime(2026, 11, 20, tzinfo=UTC)
    )
    objects_insert([OrderItem(order_id=order.pk, name="A", price=Decimal("10.00"))])
    assert order.items.get().quantity == Decimal("1")


@pytest.mark.django_db
def test_json_and_uuid_columns_read_back_as_they_were_written():
    customer = Customer.objects.create(name="Вера")
    claim = uuid.uuid4()
    rows = [
        Message(
            customer_id=customer.pk,
            channel=Channel.EMAIL,
            purpose=Purpose.SERVICE,
            address="vera@example.com",
            kind="test",
            source=str(n),
            due_at=datetime(2026, 12, 6, tzinfo=UTC),
            context=context,
            claim=claim if n else None,
        )
        for n, context in enumerate([{"token": "абв", "n": [1, 2.5, None]}, {}])
    ]
    objects_insert(rows)
    stored = {m.pk: (m.context, m.claim) for m in Message.objects.all()}
    assert stored == {m.pk: (m.context, m.claim) for m in rows}


@pytest.mark.django_db
def test_with_ignore_conflicts_rows_a_unique_key_holds_are_left_as_they_were(django_assert_num_queries):
    customer = Customer.objects.create(name="Пётр")

    def message(source: str, body: str) -> Message:
        return Message(
            customer_id=customer.pk,
            channel=Channel.SMS,
            purpose=Purpose.SERVICE,
            address="+79990000000",
            kind="test",
            source=source,
            body=body,
            due_at=datetime(2026, 12, 6, tzinfo=UTC),
        )

    objects_insert([message("a", "first")])
    with django_assert_num_queries(1):
        objects_insert([message("a", "second"), message("b", "second")], ignore_conflicts=True)
    assert dict(Message.objects.values_list("source", "body")) == {"a": "first", "b": "second"}
