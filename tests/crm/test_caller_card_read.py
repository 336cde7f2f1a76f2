"""The caller card is one query: a token's lookup is the token, the card and the audit entry whatever the caller has
(orders, a score, an open complaint, credit, coupons, the owner's rules), and that one query reads what each app's
own selectors read."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from crm.call.card import caller_card
from customers.models import Customer
from customers.services import CustomerData
from feedback.models import Invitation
from feedback.selectors import open_complaints_for_customers
from feedback.services import invitations_schedule, response_submit
from loyalty.services import credit_accrue
from orders.models import ChangeOrigin, OrderStatus
from orders.selectors import delivered_summary, orders_for_customer
from orders.services import OrderData, order_upsert
from scoring.selectors import score_for_customer
from shop.roles import Capability
from tests.factories import (
    CouponFactory,
    CustomerFactory,
    CustomerPhoneFactory,
    CustomerScoreFactory,
    LoyaltyRuleFactory,
)

pytestmark = pytest.mark.django_db

LOOKUP = reverse("api:caller_lookup")
PHONE = "+79991234567"


def caller_with_everything() -> Customer:
    """Five orders (the newest still on its way), a VIP score, an open complaint, credit, a coupon, and two active
    rules that give the caller something."""
    for n in range(5):
        order_upsert(
            data=OrderData(
                source="web",
                external_id=f"o-{n}",
                customer=CustomerData(source="web", name="Мария Соколова", phones=(PHONE,)),
                placed_at=datetime(2026, 1, 10 + n, 9, 30, 15, 250000, tzinfo=UTC),
                status=OrderStatus.DELIVERED if n < 4 else OrderStatus.SHIPPED,
                total=Decimal("1999.90") + n,
                subtotal=Decimal("1999.90") + n,
            ),
            origin=ChangeOrigin.API,
        )
    customer = Customer.objects.get(phones__number=PHONE)
    Customer.objects.filter(pk=customer.pk).update(sms_consent=True)  # the survey goes by SMS
    first = customer.orders.get(external_id="o-0")
    invitations_schedule(order_ids=[first.pk])
    invitation = Invitation.objects.get(order=first)
    response_submit(invitation=invitation, product_score=2, service_score=1, recommend_score=3, comment="Долго везли")
    CustomerScoreFactory.create(customer=customer, tier="vip", importance=97, churn_risk=0.7)
    LoyaltyRuleFactory.create(kind="vip_perk", params={"perk": "priority_delivery"}, tiers=["vip"])
    LoyaltyRuleFactory.create(kind="cumulative", params={"basis": "orders", "tiers": [[2, "3"], [4, "5"]]})
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("250.00"), purpose="owner")
    CouponFactory.create(customer=customer, code="CBACK300")
    return Customer.objects.get(pk=customer.pk)


def test_a_token_lookup_is_three_queries_the_token_the_card_and_the_audit_entry(
    api_client_for, django_assert_num_queries
):
    caller_with_everything()
    client = api_client_for(Capability.LOOKUP)
    first = client.get(LOOKUP, {"phone": PHONE})  # parses the rules into this process's rulebook
    assert first.status_code == 200
    with django_assert_num_queries(3):
        body = client.get(LOOKUP, {"phone": PHONE}).json()
    assert body == first.json()
    assert [offer["code"] for offer in body["offers"]] == ["priority_delivery", "tier_discount", "credit", "coupon"]
    assert [complaint["recommend_score"] for complaint in body["complaints"]] == [3]


def test_the_cards_one_query_reads_what_each_apps_selectors_read():
    customer = caller_with_everything()
    card = caller_card(customer, with_history=False)
    fields = ("pk", "external_id", "status", "placed_at", "total", "currency")
    expected = orders_for_customer(customer, limit=3)
    assert [[getattr(o, f) for f in fields] for o in card.recent_orders] == [
        [getattr(o, f) for f in fields] for o in expected
    ]
    score = score_for_customer(customer.pk)
    assert score is not None and card.score is not None
    assert [getattr(card.score, f.attname) for f in score._meta.concrete_fields] == [
        getattr(score, f.attname) for f in score._meta.concrete_fields
    ]
    (complaint,) = open_complaints_for_customers([customer.pk])[customer.pk]
    assert [(c["id"], c["due_at"]) for c in card.complaints] == [(complaint.pk, complaint.due_at.isoformat())]
    assert delivered_summary(customer.pk).orders == 4


def test_the_lookup_answers_the_last_order_as_before(api_client_for):
    customer = caller_with_everything()
    last = customer.orders.get(external_id="o-4")
    body = api_client_for(Capability.LOOKUP).get(LOOKUP, {"phone": PHONE}).json()
    assert body["last_order"] == {
        "id": last.pk,
        "external_id": "o-4",
        "status": "shipped",
        "placed_at": "2026-01-14T09:30:15.250000Z",
        "total": "2003.90",
    }
    assert (body["orders_count"], body["total_spent"]) == (customer.orders_count, f"{customer.total_spent:.2f}")


def test_a_number_left_on_a_merged_record_looks_up_the_survivor(api_client_for):
    survivor = CustomerFactory.create(name="Выживший")
    merged = CustomerFactory.create(merged_into=survivor)
    CustomerPhoneFactory.create(customer=merged, number="+79990001122")
    body = api_client_for(Capability.LOOKUP).get(LOOKUP, {"phone": "+79990001122"}).json()
    assert (body["customer_id"], body["name"]) == (survivor.pk, "Выживший")
