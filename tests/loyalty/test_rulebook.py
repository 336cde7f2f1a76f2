"""The quote's rules come from a per-process cache revalidated on every call by each active rule's row version:
one query when nothing changed, and never a stale rule, whichever way a rule row was written."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.engine.evaluate import Cart
from loyalty.models import LoyaltyRule
from loyalty.rulebook import rulebook
from loyalty.services import loyalty_quote
from tests.factories import CustomerFactory, LoyaltyRuleFactory

pytestmark = pytest.mark.django_db
TIERS = {"basis": "orders", "tiers": [[0, "3"]]}


def discount(customer_id: int) -> Decimal:
    customer = CustomerFactory._meta.model.objects.get(pk=customer_id)
    return loyalty_quote(customer=customer, cart=Cart(total=Decimal("1000.00"))).quote.discount


def test_unchanged_rules_are_revalidated_with_one_query() -> None:
    for _ in range(5):
        LoyaltyRuleFactory.create(kind="cumulative", params=TIERS)
    today = timezone.localdate()
    first = rulebook(today)

    with CaptureQueriesContext(connection) as queries:
        again = rulebook(today)

    assert len(queries.captured_queries) == 1
    assert again.rules == first.rules and len(again.rules) == 5


def test_a_rule_rewritten_by_a_bulk_update_in_the_same_transaction_is_read_again() -> None:
    rule = LoyaltyRuleFactory.create(kind="cumulative", params=TIERS)
    customer = CustomerFactory.create()
    assert discount(customer.pk) == Decimal("30.00")

    LoyaltyRule.objects.filter(pk=rule.pk).update(params={"basis": "orders", "tiers": [[0, "10"]]})
    assert discount(customer.pk) == Decimal("100.00")
    LoyaltyRule.objects.filter(pk=rule.pk).update(params={"basis": "orders", "tiers": [[0, "7"]]})
    assert discount(customer.pk) == Decimal("70.00")


def test_a_budget_taken_elsewhere_caps_the_next_quote() -> None:
    rule = LoyaltyRuleFactory.create(kind="cumulative", params=TIERS, budget_cap=Decimal("500.00"))
    customer = CustomerFactory.create()
    assert discount(customer.pk) == Decimal("30.00")

    LoyaltyRule.objects.filter(pk=rule.pk).update(budget_spent=Decimal("490.00"))

    assert discount(customer.pk) == Decimal("10.00")


def test_a_rule_switched_off_or_deleted_is_no_longer_quoted() -> None:
    kept = LoyaltyRuleFactory.create(kind="cumulative", params=TIERS)
    gone = LoyaltyRuleFactory.create(kind="cumulative", params={"basis": "orders", "tiers": [[0, "5"]]})
    today = timezone.localdate()
    assert [r.id for r in rulebook(today).rules] == [kept.pk, gone.pk]

    LoyaltyRule.objects.filter(pk=gone.pk).update(is_active=False)
    assert [r.id for r in rulebook(today).rules] == [kept.pk]
    LoyaltyRule.objects.filter(pk=kept.pk).delete()
    assert rulebook(today).rules == ()


def test_a_quote_through_the_api_takes_four_queries_with_fifty_rules(
    api_client_for: Callable[..., APIClient],
) -> None:
    for n in range(50):
        LoyaltyRuleFactory.create(kind="cumulative", params={"basis": "orders", "tiers": [[0, str(1 + n % 5)]]})
    customer = CustomerFactory.create()
    client = api_client_for("quote")
    body = {"customer": {"id": customer.pk}, "cart": {"total": "1000.00"}}
    assert client.post("/api/v1/loyalty/quote", body, format="json").status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/loyalty/quote", body, format="json")

    assert response.status_code == 200 and response.json()["discount_total"] == "50.00"
    # The token, the customer, the customer's facts and credit, the active rules' versions.
    assert len(queries.captured_queries) == 4
