"""A merge moves the duplicate's surveys, answers, complaints and churn signals to the survivor."""

from collections.abc import Callable

import pytest

from customers.merging import customer_merge
from feedback.models import FollowUp, Invitation, Response, Unsubscribe
from feedback.services import customer_unsubscribe, invitations_schedule, response_submit
from scoring.models import ChurnSignal
from shop.models import User
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db


def test_a_merge_moves_the_duplicates_surveys_complaints_and_signals_to_the_survivor(
    owner: User, django_capture_on_commit_callbacks: Callable[..., object]
) -> None:
    survivor = deliver("A-1").customer
    duplicate_order = deliver("B-1", email="anna.work@example.com", phone="+79990000001")
    duplicate = duplicate_order.customer
    assert duplicate.pk != survivor.pk
    consent(duplicate_order)
    invitations_schedule(order_ids=[duplicate_order.pk])
    response_submit(
        invitation=Invitation.objects.get(order=duplicate_order),
        product_score=1,
        service_score=2,
        recommend_score=3,
        comment="",
    )
    customer_unsubscribe(customer_id=duplicate.pk)

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        customer_merge(survivor=survivor, duplicate=duplicate, user=owner)

    for model in (Invitation, Response, FollowUp, ChurnSignal):
        assert set(model.objects.values_list("customer_id", flat=True)) == {survivor.pk}, model.__name__
    assert list(Unsubscribe.objects.values_list("customer_id", flat=True)) == [survivor.pk]
