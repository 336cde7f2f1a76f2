"""Unhappy answers raise churn signals in the scoring engine; a resolved complaint clears its own."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from feedback.links import survey_path
from feedback.models import FollowUp, FollowUpState, Invitation
from feedback.services import (
    COMPLAINT_WEIGHT,
    DETRACTOR_WEIGHT,
    LOW_SATISFACTION_WEIGHT,
    invitations_schedule,
    response_submit,
)
from feedback.services.answers import AlreadyAnswered
from scoring.models import ChurnSignal
from shop.roles import Role
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db
ClientFor = Callable[[str | None], Client]
Kind = ChurnSignal.Kind


@pytest.fixture
def invitation() -> Invitation:
    order = deliver()
    consent(order)
    invitations_schedule(order_ids=[order.pk])
    return Invitation.objects.get(order=order)


def _answer(client: Client, invitation: Invitation, *, product: int, service: int, recommend: int) -> None:
    data = {"product_score": product, "service_score": service, "recommend_score": recommend, "comment": ""}
    assert client.post(survey_path(invitation), data).status_code == 200


def _active() -> dict[str, tuple[str, float, int]]:
    return {
        signal.kind: (signal.source, signal.weight, signal.customer_id)
        for signal in ChurnSignal.objects.filter(cleared_at__isnull=True)
    }


def test_a_detractor_raises_a_detractor_signal_and_a_complaint(client: Client, invitation: Invitation) -> None:
    _answer(client, invitation, product=4, service=4, recommend=3)
    response_id = invitation.response.pk
    follow_up = FollowUp.objects.get()
    assert _active() == {
        Kind.DETRACTOR: (f"feedback.response:{response_id}", DETRACTOR_WEIGHT, invitation.customer_id),
        Kind.COMPLAINT: (f"feedback.followup:{follow_up.pk}", COMPLAINT_WEIGHT, invitation.customer_id),
    }
    assert ChurnSignal.objects.get(kind=Kind.DETRACTOR).detail == "recommend 3/10, purchase 4/5, service 4/5"


def test_low_satisfaction_alone_raises_its_own_signal_not_a_detractor(client: Client, invitation: Invitation) -> None:
    _answer(client, invitation, product=2, service=5, recommend=8)
    active = _active()
    assert set(active) == {Kind.LOW_SATISFACTION, Kind.COMPLAINT}
    assert active[Kind.LOW_SATISFACTION][1] == LOW_SATISFACTION_WEIGHT


def test_a_detractor_with_low_satisfaction_raises_both(client: Client, invitation: Invitation) -> None:
    _answer(client, invitation, product=1, service=1, recommend=0)
    assert set(_active()) == {Kind.DETRACTOR, Kind.LOW_SATISFACTION, Kind.COMPLAINT}


def test_a_happy_or_passive_answer_raises_no_signal(client: Client, invitation: Invitation) -> None:
    _answer(client, invitation, product=3, service=3, recommend=7)
    assert not ChurnSignal.objects.exists()


def test_a_repeated_submission_does_not_raise_a_second_signal(client: Client, invitation: Invitation) -> None:
    _answer(client, invitation, product=1, service=1, recommend=0)
    second = client.post(
        survey_path(invitation), {"product_score": 1, "service_score": 1, "recommend_score": 0, "comment": ""}
    )
    assert second.status_code == 409
    with pytest.raises(AlreadyAnswered):
        response_submit(invitation=invitation, product_score=1, service_score=1, recommend_score=0, comment="")
    assert ChurnSignal.objects.count() == 3


def test_resolving_the_follow_up_clears_the_complaint_but_not_the_answer(
    client_for: ClientFor, invitation: Invitation
) -> None:
    _answer(Client(), invitation, product=4, service=4, recommend=2)
    follow_up = FollowUp.objects.get()
    manager = client_for(Role.MANAGER)
    url = reverse("feedback:follow_up", args=[follow_up.pk])
    manager.post(url, {"state": FollowUpState.IN_PROGRESS, "outcome": "", "comment": "Звоним"})
    assert set(_active()) == {Kind.DETRACTOR, Kind.COMPLAINT}
    assert (
        manager.post(url, {"state": FollowUpState.RESOLVED, "outcome": "apologised", "comment": ""}).status_code == 302
    )
    assert set(_active()) == {Kind.DETRACTOR}
    complaint = ChurnSignal.objects.get(kind=Kind.COMPLAINT)
    assert complaint.cleared_at is not None


def test_a_refused_resolution_leaves_the_complaint_active(client_for: ClientFor, invitation: Invitation) -> None:
    _answer(Client(), invitation, product=4, service=4, recommend=2)
    url = reverse("feedback:follow_up", args=[FollowUp.objects.get().pk])
    # No outcome: the form refuses, and nothing changes.
    assert client_for(Role.MANAGER).post(url, {"state": FollowUpState.RESOLVED, "outcome": ""}).status_code == 200
    assert (
        client_for(Role.OPERATOR).post(url, {"state": FollowUpState.RESOLVED, "outcome": "apologised"}).status_code
        == 403
    )
    assert set(_active()) == {Kind.DETRACTOR, Kind.COMPLAINT}


def test_the_answer_queues_the_customers_rescoring_after_commit(
    client: Client, invitation: Invitation, django_capture_on_commit_callbacks: Callable[..., object]
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[attr-defined]
        _answer(client, invitation, product=4, service=4, recommend=3)
    # One rescoring per raised signal (detractor and complaint), queued only once the answer is committed.
    assert len(callbacks) == 2


def test_a_follow_up_opened_again_after_resolving_makes_its_complaint_active_again(
    client_for: ClientFor, invitation: Invitation
) -> None:
    _answer(Client(), invitation, product=4, service=4, recommend=2)
    follow_up = FollowUp.objects.get()
    manager = client_for(Role.MANAGER)
    url = reverse("feedback:follow_up", args=[follow_up.pk])
    manager.post(url, {"state": FollowUpState.RESOLVED, "outcome": "apologised", "comment": ""})
    assert set(_active()) == {Kind.DETRACTOR}
    assert (
        manager.post(url, {"state": FollowUpState.OPEN, "outcome": "", "comment": "He called back"}).status_code == 302
    )
    assert _active()[Kind.COMPLAINT] == (f"feedback.followup:{follow_up.pk}", COMPLAINT_WEIGHT, invitation.customer_id)
    assert ChurnSignal.objects.filter(kind=Kind.COMPLAINT).count() == 1
