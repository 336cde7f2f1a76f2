"""The personal data export and erasure cover what scoring and feedback hold about a person: the score with its
history and reasons, and the surveys with their answers and complaints."""

import json
from datetime import date

import pytest
from django.urls import reverse

from crm.privacy import customer_erase_personal_data
from feedback.models import FollowUp, FollowUpComment, FollowUpState, Invitation, InvitationState, Response
from feedback.services import follow_up_update, invitations_schedule, response_submit
from scoring.models import ChurnSignal, ScoreSnapshot
from shop.models import User
from tests.factories import CustomerScoreFactory
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def surveyed(owner: User) -> Invitation:
    """A customer who answered a survey unhappily, with a comment, and whose complaint a manager commented on."""
    order = deliver()
    consent(order)
    invitations_schedule(order_ids=[order.pk])
    invitation = Invitation.objects.get(order=order)
    response_submit(
        invitation=invitation, product_score=2, service_score=3, recommend_score=4, comment="Курьер опоздал"
    )
    follow_up_update(
        follow_up=FollowUp.objects.get(),
        author=owner,
        state=FollowUpState.IN_PROGRESS,
        assignee_id=None,
        outcome="",
        comment="Звонили Анне, извинились",
    )
    score = CustomerScoreFactory.create(customer_id=order.customer_id, importance=80)
    ScoreSnapshot.objects.create(
        customer_id=order.customer_id, month=date(2026, 2, 1), importance=75, tier="high", segment="loyal"
    )
    score.churn_reasons = [{"signal": "complaint", "detail": "recommend 4/10"}]
    score.save()
    return Invitation.objects.get(pk=invitation.pk)


def test_export_holds_the_score_its_history_reasons_and_signals(client_for, surveyed: Invitation) -> None:
    client = client_for("Manager")
    data = json.loads(client.get(reverse("customer_personal_data", args=[surveyed.customer_id])).content)
    score = data["score"]
    assert score["importance"] == 80
    assert [(h["month"], h["importance"]) for h in score["history"]] == [("2026-02-01", 75)]
    assert len(score["churn_reasons"]) == 1 and "recommend 4/10" in score["churn_reasons"][0]
    assert {s["kind"] for s in score["churn_signals"]} == {
        ChurnSignal.Kind.DETRACTOR,
        ChurnSignal.Kind.LOW_SATISFACTION,
        ChurnSignal.Kind.COMPLAINT,
    }


def test_export_holds_the_surveys_answers_and_complaints(client_for, surveyed: Invitation) -> None:
    client = client_for("Manager")
    data = json.loads(client.get(reverse("customer_personal_data", args=[surveyed.customer_id])).content)
    [survey] = data["surveys"]
    assert (survey["order"], survey["address"]) == ("A-1", "anna@example.com")
    assert (survey["answer"]["recommend_score"], survey["answer"]["comment"]) == (4, "Курьер опоздал")
    assert [c["text"] for c in survey["follow_up"]["comments"]] == ["Звонили Анне, извинились"]


def test_erase_blanks_survey_addresses_and_comments_and_keeps_the_figures(owner: User, surveyed: Invitation) -> None:
    result = customer_erase_personal_data(customer=surveyed.customer, user=owner)
    assert (result.counts["survey_addresses"], result.counts["survey_comments"]) == (1, 1)
    assert Invitation.objects.get(pk=surveyed.pk).address == ""
    response = Response.objects.get(invitation=surveyed)
    assert (response.comment, response.recommend_score) == ("", 4)
    assert not FollowUpComment.objects.exists()


def test_erase_drops_a_survey_still_waiting_to_be_sent(owner: User) -> None:
    order = deliver("A-2")
    consent(order)
    invitations_schedule(order_ids=[order.pk])
    customer_erase_personal_data(customer=order.customer, user=owner)
    invitation = Invitation.objects.get(order=order)
    assert (invitation.state, invitation.address) == (InvitationState.FAILED, "")
