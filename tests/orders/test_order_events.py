"""Order events: the follow-up work of a change of orders is a row written with the orders, dispatched after the
commit, and swept when its message was lost; dispatching twice is harmless and a failing receiver keeps it pending."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.events import order_event_dispatch, order_events_sweep
from orders.models import ChangeOrigin, OrderEvent
from orders.services import order_upsert
from orders.signals import orders_changed
from tests.orders.test_ingestion_services import order_data


@pytest.fixture
def heard(monkeypatch):
    calls: list[list[int]] = []

    def receiver(sender, customer_ids, **kwargs):
        calls.append(customer_ids)

    orders_changed.connect(receiver, dispatch_uid="test.heard")
    yield calls
    orders_changed.disconnect(dispatch_uid="test.heard")


@pytest.mark.django_db(transaction=True)
def test_a_stored_order_is_dispatched_after_its_commit(heard):
    result = order_upsert(data=order_data("1"), origin=ChangeOrigin.API)

    event = OrderEvent.objects.get()
    assert event.dispatched_at is not None
    assert event.payload["order_ids"] == [result.order_id]
    assert len(heard) == 1


@pytest.mark.django_db
def test_a_second_dispatch_of_the_same_event_sends_nothing(heard):
    event = OrderEvent.objects.create(
        payload={"order_ids": [1], "customer_ids": [7], "delivered_order_ids": [], "status_changes": []}
    )
    assert order_event_dispatch(event_id=event.pk) is True
    assert order_event_dispatch(event_id=event.pk) is False
    assert heard == [[7]]


@pytest.mark.django_db
def test_a_failing_receiver_leaves_the_event_pending_for_the_sweep():
    def broken(sender, **kwargs):
        raise ConnectionError("broker refused")

    orders_changed.connect(broken, dispatch_uid="test.broken")
    try:
        event = OrderEvent.objects.create(
            payload={"order_ids": [1], "customer_ids": [7], "delivered_order_ids": [], "status_changes": []}
        )
        assert order_event_dispatch(event_id=event.pk) is False
    finally:
        orders_changed.disconnect(dispatch_uid="test.broken")
    event.refresh_from_db()
    assert event.dispatched_at is None


@pytest.mark.django_db
def test_the_sweep_dispatches_events_waiting_over_a_minute_and_forgets_old_dispatched_ones(heard):
    now = timezone.now()
    payload = {"order_ids": [1], "customer_ids": [7], "delivered_order_ids": [], "status_changes": []}
    waiting = OrderEvent.objects.create(payload=payload, created_at=now - timedelta(minutes=2))
    fresh = OrderEvent.objects.create(payload=payload, created_at=now)
    old = OrderEvent.objects.create(
        payload=payload, created_at=now - timedelta(days=3), dispatched_at=now - timedelta(days=2)
    )

    assert order_events_sweep(now=now) == {"pending": 1, "dispatched": 1, "forgotten": 1}
    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert waiting.dispatched_at is not None and fresh.dispatched_at is None
    assert not OrderEvent.objects.filter(pk=old.pk).exists()
