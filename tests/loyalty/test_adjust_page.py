"""The owner's adjustment form on the card: a signed amount with a reason through ``credit_adjust``; its refusals
shown on the form; nobody else may post it."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from loyalty.models import LedgerEntry, LoyaltyAccount
from loyalty.services import credit_accrue
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def with_credit(amount: str) -> int:
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal(amount), purpose="owner")
    return customer.pk


def test_the_owner_adds_credit_with_a_reason(client_for: Callable[[str | None], Client]) -> None:
    customer_id = with_credit("100.00")
    response = client_for("Owner").post(
        reverse("loyalty:credit_adjust", args=[customer_id]),
        {"amount": "250.00", "reason": "Apology for a late courier", "expires_on": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_card", args=[customer_id])
    entry = LedgerEntry.objects.get(customer_id=customer_id, kind="adjustment")
    assert (entry.amount, entry.balance_after, entry.reason) == (
        Decimal("250.00"),
        Decimal("350.00"),
        "Apology for a late courier",
    )


def test_taking_off_more_than_the_balance_shows_the_services_refusal(
    client_for: Callable[[str | None], Client],
) -> None:
    customer_id = with_credit("100.00")
    response = client_for("Owner").post(
        reverse("loyalty:credit_adjust", args=[customer_id]), {"amount": "-100.01", "reason": "Correction"}
    )
    assert response.status_code == 200
    assert "100.01" in str(response.context["form"].errors["amount"])
    assert LoyaltyAccount.objects.get(pk=customer_id).balance == Decimal("100.00")
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()


@pytest.mark.parametrize(
    "data", [{"amount": "10", "reason": " "}, {"amount": "0", "reason": "x"}, {"amount": "abc", "reason": "x"}]
)
def test_a_bad_adjustment_changes_nothing(client_for: Callable[[str | None], Client], data: dict[str, str]) -> None:
    customer_id = with_credit("100.00")
    response = client_for("Owner").post(reverse("loyalty:credit_adjust", args=[customer_id]), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert LoyaltyAccount.objects.get(pk=customer_id).balance == Decimal("100.00")


@pytest.mark.parametrize("role", ["Manager", "Operator"])
def test_only_the_owner_may_adjust(client_for: Callable[[str | None], Client], role: str) -> None:
    customer_id = with_credit("100.00")
    client = client_for(role)
    url = reverse("loyalty:credit_adjust", args=[customer_id])
    assert client.get(url).status_code == 403
    assert client.post(url, {"amount": "50", "reason": "why not"}).status_code == 403
    assert LoyaltyAccount.objects.get(pk=customer_id).balance == Decimal("100.00")


def test_the_card_links_to_the_form_for_the_owner_only(client_for: Callable[[str | None], Client]) -> None:
    customer_id = with_credit("10.00")
    card = reverse("customer_card", args=[customer_id])
    assert 'data-testid="card-credit-adjust"' in client_for("Owner").get(card).content.decode()
    assert 'data-testid="card-credit-adjust"' not in client_for("Manager").get(card).content.decode()
