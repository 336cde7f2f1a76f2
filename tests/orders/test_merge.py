"""Merging duplicate customers keeps every order and contact and records what moved."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.merging import MergeError, customer_merge
from customers.models import Call, Customer, CustomerMerge, Note, Tag
from customers.services import CustomerData
from orders.models import ChangeOrigin, Order, OrderStatus
from orders.services import OrderData, order_upsert
from shop.roles import Role

pytestmark = pytest.mark.django_db


def customer_with_orders(phone: str, email: str, orders: int, name: str = "") -> Customer:
    for n in range(orders):
        order_upsert(
            data=OrderData(
                source="web",
                external_id=f"{phone}-{n}",
                customer=CustomerData(source="web", name=name, phones=(phone,), emails=(email,)),
                placed_at=datetime(2026, 2, 1 + n, tzinfo=UTC),
                status=OrderStatus.DELIVERED,
                total=Decimal("1000.00"),
            ),
            origin=ChangeOrigin.API,
        )
    return Customer.objects.get(phones__number=phone)


def test_merging_moves_every_order_and_contact_and_records_it(manager):
    survivor = customer_with_orders("+79990000001", "a@example.ru", 2, name="Анна Смирнова")
    duplicate = customer_with_orders("+79990000002", "b@example.ru", 3)
    Note.objects.create(customer=duplicate, text="Звонила по поводу возврата")
    Call.objects.create(customer=duplicate, phone="+79990000002")
    duplicate.tags.add(Tag.objects.create(name="опт"))

    record = customer_merge(survivor=survivor, duplicate=duplicate, user=manager)

    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert Order.objects.filter(customer=survivor).count() == 5
    assert set(survivor.phones.values_list("number", flat=True)) == {"+79990000001", "+79990000002"}
    assert set(survivor.emails.values_list("address", flat=True)) == {"a@example.ru", "b@example.ru"}
    assert survivor.notes.count() == 1 and survivor.calls.count() == 1
    assert list(survivor.tags.values_list("name", flat=True)) == ["опт"]
    assert (survivor.orders_count, survivor.total_spent) == (5, Decimal("5000.00"))
    assert (duplicate.merged_into_id, duplicate.orders_count) == (survivor.pk, 0)
    assert record.moved["orders"] == 3 and record.merged_snapshot["phones"] == ["+79990000002"]
    assert record.merged_by == manager


def test_a_new_order_with_the_merged_phone_reaches_the_survivor():
    survivor = customer_with_orders("+79990000001", "a@example.ru", 1)
    duplicate = customer_with_orders("+79990000002", "b@example.ru", 1)
    customer_merge(survivor=survivor, duplicate=duplicate, user=None)
    customer_with_orders("+79990000002", "b@example.ru", 2)
    assert Order.objects.filter(customer=survivor).count() == 3


def test_merging_twice_or_into_itself_is_refused():
    survivor = customer_with_orders("+79990000001", "a@example.ru", 1)
    duplicate = customer_with_orders("+79990000002", "b@example.ru", 1)
    with pytest.raises(MergeError):
        customer_merge(survivor=survivor, duplicate=survivor, user=None)
    customer_merge(survivor=survivor, duplicate=duplicate, user=None)
    with pytest.raises(MergeError):
        customer_merge(survivor=survivor, duplicate=duplicate, user=None)
    assert CustomerMerge.objects.count() == 1


def test_the_merge_page_compares_then_merges_by_phone(client_for):
    survivor = customer_with_orders("+79990000001", "a@example.ru", 1)
    duplicate = customer_with_orders("+79990000002", "b@example.ru", 1)
    manager = client_for(Role.MANAGER)
    url = reverse("customer_merge", args=[survivor.pk])
    compare = manager.post(url, {"other": "8 999 000 00 02"})
    assert 'data-testid="confirm-merge"' in compare.content.decode()
    done = manager.post(url, {"other": duplicate.pk, "confirm": "yes", "keep": "this"})
    assert done.status_code == 302 and done["Location"] == reverse("customer_card", args=[survivor.pk])
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk


def test_operators_may_not_merge(client_for):
    survivor = customer_with_orders("+79990000001", "a@example.ru", 1)
    duplicate = customer_with_orders("+79990000002", "b@example.ru", 1)
    response = client_for(Role.OPERATOR).post(
        reverse("customer_merge", args=[survivor.pk]), {"other": duplicate.pk, "confirm": "yes"}
    )
    assert response.status_code == 403
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id is None
