"""Feedback on the customer card: every survey answer and every complaint in the timeline, open complaints at the
top of the card, and a card whose query count does not grow with them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from feedback.models import FollowUp, FollowUpOutcome, FollowUpState, Invitation, Response
from orders.models import Order
from tests.factories import CustomerFactory, OrderFactory, make_manager, operator_opens_card


def card(customer: Customer) -> str:
    return reverse("customer_card", kwargs={"pk": customer.pk})


def answer(
    customer: Customer,
    *,
    recommend: int = 9,
    product: int = 5,
    service: int = 5,
    comment: str = "",
    days_ago: int = 1,
) -> Response:
    order: Order = OrderFactory.create(customer=customer, status="delivered")
    invitation = Invitation.objects.create(
        order=order, customer=customer, channel="email", address="anna@example.com", due_at=timezone.now()
    )
    return Response.objects.create(
        invitation=invitation,
        customer=customer,
        product_score=product,
        service_score=service,
        recommend_score=recommend,
        comment=comment,
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def complaint(response: Response, *, state: str = FollowUpState.OPEN, outcome: str = "", due_in_hours: int = 24):
    return FollowUp.objects.create(
        response=response,
        customer=response.customer,
        order=response.invitation.order,
        state=state,
        outcome=outcome,
        due_at=timezone.now() + timedelta(hours=due_in_hours),
        resolved_at=timezone.now() if state == FollowUpState.RESOLVED else None,
        created_at=response.created_at + timedelta(minutes=1),
    )


@pytest.fixture
def customer(db) -> Customer:
    return CustomerFactory.create(name="Анна Петрова")


@pytest.fixture
def english_manager(db, client):
    client.force_login(make_manager(language="en"))
    return client


def timeline(content: str) -> str:
    return content.split('data-testid="timeline"')[1]


def test_every_survey_answer_is_in_the_timeline_with_its_scores_comment_and_order(english_manager, customer):
    happy = answer(customer, recommend=10, comment="Быстро привезли", days_ago=3)
    unhappy = answer(customer, recommend=4, product=2, service=3, comment="Коробка мятая", days_ago=1)
    content = timeline(english_manager.get(card(customer)).content.decode())
    assert content.index(f'data-response="{unhappy.pk}"') < content.index(f'data-response="{happy.pk}"')
    assert "would recommend 10/10" in content and "would recommend 4/10" in content
    assert "purchase 2/5 · service 3/5" in content
    assert "Быстро привезли" in content and "Коробка мятая" in content
    assert unhappy.invitation.order.external_id in content


def test_complaints_are_in_the_timeline_with_state_and_outcome(english_manager, customer):
    resolved = complaint(
        answer(customer, recommend=2, days_ago=5), state=FollowUpState.RESOLVED, outcome=FollowUpOutcome.COMPENSATED
    )
    open_one = complaint(answer(customer, recommend=3, days_ago=1))
    content = timeline(english_manager.get(card(customer)).content.decode())
    assert f'data-follow-up="{resolved.pk}"' in content and f'data-follow-up="{open_one.pk}"' in content
    assert 'data-state="resolved"' in content and 'data-outcome="compensated"' in content
    assert "Compensated" in content and 'data-state="open"' in content


def test_a_comment_is_escaped_in_the_timeline(english_manager, customer):
    answer(customer, comment="<script>alert(1)</script>")
    content = english_manager.get(card(customer)).content.decode()
    assert "<script>alert(1)</script>" not in content and "&lt;script&gt;" in content


def test_open_complaints_show_at_the_top_of_the_card_resolved_ones_do_not(english_manager, customer):
    open_one = complaint(answer(customer, recommend=3, comment="Не работает"))
    resolved = complaint(answer(customer, recommend=1), state=FollowUpState.RESOLVED, outcome="apologised")
    content = english_manager.get(card(customer)).content.decode()
    top = content.split('data-testid="card-complaints"')[1].split("</div>\n</div>")[0]
    assert f'data-follow-up="{open_one.pk}"' in top and f'data-follow-up="{resolved.pk}"' not in top
    assert "An open complaint" in top and "would recommend 3/10" in top and "Не работает" in top
    assert reverse("feedback:follow_up", kwargs={"pk": open_one.pk}) in top
    assert content.index('data-testid="card-complaints"') < content.index('data-section="score"')


def test_an_overdue_complaint_says_so(english_manager, customer):
    complaint(answer(customer, recommend=3), due_in_hours=-2)
    content = english_manager.get(card(customer)).content.decode()
    assert "overdue since" in content.split('data-testid="card-complaints"')[1]


def test_a_customer_without_complaints_has_no_complaint_panel(english_manager, customer):
    answer(customer, recommend=10)
    assert 'data-testid="card-complaints"' not in english_manager.get(card(customer)).content.decode()


def test_operator_sees_complaints_without_links_to_the_task_list(client_for, customer):
    follow_up = complaint(answer(customer, recommend=3))
    content = operator_opens_card(customer.pk).content.decode()
    assert f'data-follow-up="{follow_up.pk}"' in content
    assert reverse("feedback:follow_up", kwargs={"pk": follow_up.pk}) not in content


def test_card_query_count_does_not_grow_with_answers_and_complaints(english_manager, customer):
    complaint(answer(customer, recommend=3))
    english_manager.get(card(customer))
    with CaptureQueriesContext(connection) as small:
        english_manager.get(card(customer))
    for index in range(15):
        complaint(answer(customer, recommend=index % 7, comment=f"ответ {index}"))
    with CaptureQueriesContext(connection) as large:
        english_manager.get(card(customer))
    assert len(large) == len(small)
