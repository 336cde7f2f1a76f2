"""The one phone lookup: a number leads to the person, the survivor when its record was merged."""

import pytest

from customers.selectors import phone_owner
from tests.factories import CustomerFactory, CustomerPhoneFactory

pytestmark = pytest.mark.django_db


def test_a_number_leads_to_its_owner() -> None:
    phone = CustomerPhoneFactory.create(number="+79990000001")
    assert phone_owner("+79990000001") == phone.customer


def test_an_unknown_number_leads_to_nobody() -> None:
    assert phone_owner("+79990000009") is None


def test_a_number_of_a_merged_record_leads_to_the_survivor_at_the_end_of_the_chain() -> None:
    survivor = CustomerFactory.create()
    middle = CustomerFactory.create(merged_into=survivor)
    first = CustomerFactory.create(merged_into=middle)
    CustomerPhoneFactory.create(customer=first, number="+79990000001")
    assert phone_owner("+79990000001") == survivor
