"""The customer list filters by loyalty: a credit balance of at least a sum, and an active coupon."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from loyalty.services import credit_accrue
from tests.factories import CouponFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def names(client: Client, query: dict[str, str]) -> set[str]:
    response = client.get(reverse("customers:list"), query)
    assert response.status_code == 200
    return {row.name for row in response.context["page"].rows}


def test_the_list_filters_by_a_balance_of_at_least_a_sum(client_for: Callable[[str | None], Client]) -> None:
    for name, amount in (("Rich", "600.00"), ("Exact", "500.00"), ("Poor", "499.99")):
        customer = CustomerFactory.create(name=name)
        with transaction.atomic():
            credit_accrue(customer_id=customer.pk, amount=Decimal(amount), purpose="owner")
    CustomerFactory.create(name="None")
    assert names(client_for("Manager"), {"balance_min": "500"}) == {"Rich", "Exact"}


def test_the_list_filters_by_an_active_coupon(client_for: Callable[[str | None], Client]) -> None:
    CouponFactory.create(customer=CustomerFactory.create(name="Live"))
    CouponFactory.create(customer=CustomerFactory.create(name="Used"), used_at=timezone.now())
    CouponFactory.create(customer=CustomerFactory.create(name="Old"), valid_until=timezone.now() - timedelta(minutes=1))
    CouponFactory.create(customer=CustomerFactory.create(name="Revoked"), revoked_at=timezone.now())
    assert names(client_for("Manager"), {"has_coupon": "on"}) == {"Live"}


def test_a_negative_balance_filter_is_refused_and_filters_nothing(client_for: Callable[[str | None], Client]) -> None:
    CustomerFactory.create(name="Anyone")
    response = client_for("Manager").get(reverse("customers:list"), {"balance_min": "-5"})
    assert response.status_code == 200
    assert "balance_min" in response.context["form"].errors
