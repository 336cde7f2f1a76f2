"""One click on the early-warning list: a follow-up opened for a customer who left no survey answer, with the
warning as its reason; once only while it is unresolved; never a complaint; not for operators."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from analytics.models import EarlyWarning
from feedback.models import FollowUp, FollowUpState
from feedback.selectors import open_complaints_for_customers
from feedback.services import follow_up_open
from shop.roles import Role
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ClientFor = Callable[[str | None], Client]


def _warned() -> int:
    customer = CustomerFactory.create()
    EarlyWarning.objects.create(
        customer_id=customer.pk, churn_risk=0.55, previous_churn_risk=0.3, rise=0.25,
        value_at_stake=Decimal("1200.00"), last_purchase=timezone.localdate(),
    )  # fmt: skip
    return customer.pk


def test_one_click_opens_a_follow_up_with_the_warning_as_its_reason(client_for: ClientFor):
    customer_id = _warned()
    client = client_for(Role.MANAGER)
    response = client.post(reverse("analytics:warning_follow_up", args=[customer_id]))
    follow_up = FollowUp.objects.get(customer_id=customer_id)
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:follow_up", args=[follow_up.pk])
    assert follow_up.response is None and follow_up.order is None
    assert follow_up.state == FollowUpState.OPEN
    assert "30" in follow_up.reason and "55" in follow_up.reason
    assert follow_up.opened_by is not None
    # Not a complaint: the card and the screen-pop do not show it as one, and no complaint signal is raised.
    assert open_complaints_for_customers([customer_id]) == {}
    page = client.get(reverse("feedback:follow_up", args=[follow_up.pk]))
    # The reason reads in the reader's language (the shop's Russian here), not as its stored code.
    with translation.override("ru"):
        assert follow_up.reason_text in page.content.decode()
    assert "early_warning" not in page.content.decode()
    listing = client.get(reverse("analytics:warnings")).content.decode()
    assert reverse("feedback:follow_up", args=[follow_up.pk]) in listing


def test_a_second_click_opens_the_same_follow_up(client_for: ClientFor):
    customer_id = _warned()
    client = client_for(Role.OWNER)
    client.post(reverse("analytics:warning_follow_up", args=[customer_id]))
    client.post(reverse("analytics:warning_follow_up", args=[customer_id]))
    assert FollowUp.objects.filter(customer_id=customer_id).count() == 1


def test_a_resolved_follow_up_lets_a_new_one_open():
    customer = CustomerFactory.create()
    first, created = follow_up_open(customer_id=customer.pk, reason="rising risk", opened_by=None)
    assert created
    FollowUp.objects.filter(pk=first.pk).update(state=FollowUpState.RESOLVED)
    second, created = follow_up_open(customer_id=customer.pk, reason="rising again", opened_by=None)
    assert created and second.pk != first.pk


def test_a_follow_up_needs_a_reason():
    customer = CustomerFactory.create()
    with pytest.raises(ValueError, match="reason"):
        follow_up_open(customer_id=customer.pk, reason="  ", opened_by=None)
    assert not FollowUp.objects.exists()


def test_operators_cannot_open_a_follow_up_from_the_list(client_for: ClientFor):
    customer_id = _warned()
    response = client_for(Role.OPERATOR).post(reverse("analytics:warning_follow_up", args=[customer_id]))
    assert response.status_code == 403
    assert not FollowUp.objects.exists()


def test_a_customer_off_the_list_gets_no_follow_up(client_for: ClientFor):
    customer = CustomerFactory.create()
    response = client_for(Role.MANAGER).post(reverse("analytics:warning_follow_up", args=[customer.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("analytics:warnings")
    assert not FollowUp.objects.exists()
