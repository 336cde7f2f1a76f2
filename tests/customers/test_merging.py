"""The merge owned by customers: every registered mover runs in one transaction, in its declared position, and a
mover that fails leaves both customers as they were."""

from collections.abc import Callable

import pytest
from django.core.exceptions import ImproperlyConfigured

from customers.contrib import Contribution, MergeMover, merge_movers
from customers.merging import customer_merge
from customers.models import Customer, CustomerMerge, Note
from orders.models import Order
from scoring.models import ChurnSignal, CustomerScore
from shop.models import User
from tests.factories import (
    CustomerFactory,
    CustomerPhoneFactory,
    CustomerScoreFactory,
    NoteFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db


def pair() -> tuple[Customer, Customer]:
    survivor = CustomerFactory.create(name="")
    duplicate = CustomerFactory.create(name="Анна")
    CustomerPhoneFactory.create(customer=duplicate, number="+79990000002")
    NoteFactory.create(customer=duplicate, text="Звонила по поводу возврата")
    OrderFactory.create(customer=duplicate)
    ChurnSignal.objects.create(customer=duplicate, kind=ChurnSignal.Kind.COMPLAINT, source="test:1", weight=0.2)
    CustomerScoreFactory.create(customer=duplicate)
    return survivor, duplicate


def refuse(survivor: Customer, duplicate: Customer) -> dict[str, int]:
    raise RuntimeError("the loyalty ledger could not move")


def test_a_failing_mover_rolls_the_whole_merge_back(
    owner: User, contribute: Callable[[Contribution], None], django_capture_on_commit_callbacks: Callable[..., object]
) -> None:
    survivor, duplicate = pair()
    contribute(Contribution(app="loyalty", merge_movers=(MergeMover("ledger", 900, refuse),)))

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):  # type: ignore[attr-defined]
        customer_merge(survivor=survivor, duplicate=duplicate, user=owner)

    assert callbacks == []
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.merged_into_id is None and survivor.name == ""
    assert not CustomerMerge.objects.exists()
    assert list(duplicate.phones.values_list("number", flat=True)) == ["+79990000002"]
    for model in (Order, Note, ChurnSignal, CustomerScore):
        assert set(model.objects.values_list("customer_id", flat=True)) == {duplicate.pk}, model.__name__


def test_the_merge_record_counts_what_every_app_moved(owner: User) -> None:
    survivor, duplicate = pair()

    record = customer_merge(survivor=survivor, duplicate=duplicate, user=owner)

    assert record.moved["orders"] == 1 and record.moved["notes"] == 1 and record.moved["phones"] == 1
    assert record.moved["churn_signals"] == 1 and record.moved["scores_dropped"] == 1
    assert record.moved["invitations"] == 0
    assert not CustomerScore.objects.filter(customer=duplicate).exists()


def test_movers_run_in_their_declared_positions(owner: User, contribute: Callable[[Contribution], None]) -> None:
    seen: list[int] = []

    def count_orders(survivor: Customer, duplicate: Customer) -> dict[str, int]:
        seen.append(Order.objects.filter(customer=survivor).count())
        return {}

    # Registered last, placed between orders' and feedback's movers: the position decides where a mover runs.
    contribute(Contribution(app="loyalty", merge_movers=(MergeMover("ledger", 150, count_orders),)))
    survivor, duplicate = pair()

    customer_merge(survivor=survivor, duplicate=duplicate, user=owner)

    assert [m.name for m in merge_movers()] == [
        "customer_records",
        "orders",
        "ledger",
        "messages",
        "surveys",
        "scores",
    ]
    assert seen == [1]


def test_two_movers_at_one_position_are_refused(contribute: Callable[[Contribution], None]) -> None:
    with pytest.raises(ImproperlyConfigured, match="position 100"):
        contribute(Contribution(app="loyalty", merge_movers=(MergeMover("ledger", 100, refuse),)))


def test_the_signal_is_sent_only_after_the_commit(
    owner: User, django_capture_on_commit_callbacks: Callable[..., object]
) -> None:
    survivor, duplicate = pair()
    with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[attr-defined]
        customer_merge(survivor=survivor, duplicate=duplicate, user=owner)
    assert len(callbacks) == 1
