"""``shop.db.rows_update``: many rows' fields written in one statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from orders.models import Order, OrderStatus
from shop.db import rows_update
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_in_one_statement() -> None:
    orders = [OrderFactory.create(status=OrderStatus.NEW) for _number in range(3)]
    for order, status in zip(orders, [OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED], strict=True):
        order.status = status
    with CaptureQueriesContext(connection) as queries:
        assert rows_update(Order, orders, ["status"]) == 3
    assert len(queries.captured_queries) == 1
    assert [order.status for order in Order.objects.order_by("pk")] == [
        OrderStatus.DELIVERED,
        OrderStatus.CANCELLED,
        OrderStatus.RETURNED,
    ]


def test_a_related_object_saved_after_it_was_assigned_gives_its_id() -> None:
    order = OrderFactory.create()
    order.customer = Customer(name="Новый")
    order.customer.save()
    rows_update(Order, [order], ["customer"])
    assert Order.objects.get().customer_id == order.customer.pk


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="customer_id"):
        rows_update(Order, [OrderFactory.create()], ["customer_id"])


def test_rows_not_named_are_left_alone() -> None:
    kept, changed = CustomerFactory.create(name="Анна"), CustomerFactory.create(name="Борис")
    changed.name = "Вера"
    kept.name = "не записано"
    rows_update(Customer, [changed], ["name"])
    assert dict(Customer.objects.values_list("pk", "name")) == {kept.pk: "Анна", changed.pk: "Вера"}
