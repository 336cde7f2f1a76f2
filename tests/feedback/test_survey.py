from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.links import SALT, survey_path, token_sign, unsubscribe_path
from feedback.models import FollowUp, FollowUpState, Invitation, InvitationSkip, Response, SkipReason, Unsubscribe
from feedback.selectors import open_complaints_for_customers
from feedback.services import invitations_schedule
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db

HAPPY = {"product_score": "5", "service_score": "5", "recommend_score": "10", "comment": ""}
UNHAPPY = {"product_score": "4", "service_score": "3", "recommend_score": "3", "comment": "Курьер опоздал"}


@pytest.fixture
def invitation() -> Invitation:
    order = deliver()
    consent(order)
    invitations_schedule(order_ids=[order.pk])
    return Invitation.objects.get(order=order)


def test_survey_link_opens_the_form_without_login(client: Client, invitation: Invitation) -> None:
    response = client.get(survey_path(invitation))
    assert response.status_code == 200
    assert b'name="recommend_score"' in response.content


def test_a_happy_answer_is_stored_and_opens_no_follow_up(client: Client, invitation: Invitation) -> None:
    response = client.post(survey_path(invitation), HAPPY)
    assert response.status_code == 200
    assert Response.objects.get().recommend_score == 10
    assert not FollowUp.objects.exists()


def test_a_detractor_opens_a_follow_up_and_an_open_complaint(client: Client, invitation: Invitation) -> None:
    client.post(survey_path(invitation), UNHAPPY)
    follow_up = FollowUp.objects.get()
    assert (follow_up.order_id, follow_up.state) == (invitation.order_id, FollowUpState.OPEN)
    assert follow_up.due_at > timezone.now()
    assert follow_up.response is not None and follow_up.response.comment == "Курьер опоздал"
    assert list(open_complaints_for_customers([invitation.customer_id])) == [invitation.customer_id]


def test_low_satisfaction_with_a_good_recommendation_still_opens_a_follow_up(
    client: Client, invitation: Invitation
) -> None:
    client.post(survey_path(invitation), {**HAPPY, "service_score": "2", "recommend_score": "8"})
    assert FollowUp.objects.count() == 1


def test_a_second_answer_is_refused_politely_and_changes_nothing(client: Client, invitation: Invitation) -> None:
    client.post(survey_path(invitation), HAPPY)
    response = client.post(survey_path(invitation), UNHAPPY)
    assert response.status_code == 409
    assert Response.objects.get().recommend_score == 10
    assert not FollowUp.objects.exists()


def test_out_of_range_answer_is_refused_and_nothing_is_stored(client: Client, invitation: Invitation) -> None:
    response = client.post(survey_path(invitation), {**HAPPY, "recommend_score": "11"})
    assert response.status_code == 200
    assert not Response.objects.exists()


def test_an_expired_link_gets_a_clear_page_with_410(client: Client, invitation: Invitation) -> None:
    class FifteenDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(timezone.now().timestamp()) - 15 * 86400)

    path = reverse("feedback:survey", args=[FifteenDaysAgo(salt=SALT).sign(invitation.public_token)])
    response = client.get(path, headers={"accept-language": "en"})
    assert response.status_code == 410
    assert b"expired" in response.content
    assert client.post(path, HAPPY).status_code == 410
    assert not Response.objects.exists()


def test_a_tampered_link_gets_a_not_found_page(client: Client, invitation: Invitation) -> None:
    signed = token_sign(invitation)
    tampered = signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")
    response = client.get(reverse("feedback:survey", args=[tampered]))
    assert response.status_code == 404
    unsigned_guess = reverse("feedback:survey", args=[str(invitation.pk)])
    assert client.get(unsigned_guess).status_code == 404


def test_a_link_signed_for_another_purpose_is_refused(client: Client, invitation: Invitation) -> None:
    foreign = signing.TimestampSigner(salt="other").sign(invitation.public_token)
    assert client.get(reverse("feedback:survey", args=[foreign])).status_code == 404


def test_a_mail_clients_one_click_post_unsubscribes_without_a_csrf_token(invitation: Invitation) -> None:
    # RFC 8058: the mail client posts "List-Unsubscribe=One-Click" with no session and no CSRF token.
    response = Client(enforce_csrf_checks=True).post(unsubscribe_path(invitation), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert Unsubscribe.objects.filter(customer_id=invitation.customer_id).exists()


def test_following_the_unsubscribe_link_only_asks_to_confirm(client: Client, invitation: Invitation) -> None:
    # Mail scanners and link previews open every link in a message: a GET must change nothing.
    response = client.get(unsubscribe_path(invitation))

    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert not Unsubscribe.objects.filter(customer_id=invitation.customer_id).exists()


@pytest.mark.parametrize("name", ["survey", "unsubscribe"])
def test_the_public_pages_are_not_stored_and_send_no_referrer(
    client: Client, invitation: Invitation, name: str
) -> None:
    path = survey_path(invitation) if name == "survey" else unsubscribe_path(invitation)

    response = client.get(path)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_survey_form_posts_from_a_page_that_sends_no_referrer(invitation: Invitation) -> None:
    # Under Referrer-Policy: no-referrer a browser posts the page's form with "Origin: null" and no Referer.
    client = Client(enforce_csrf_checks=True)
    answer = {"product_score": 5, "service_score": 5, "recommend_score": 10}

    response = client.post(survey_path(invitation), answer, HTTP_ORIGIN="null")

    assert response.status_code == 200
    assert Response.objects.filter(invitation=invitation).exists()


def test_confirming_the_unsubscribe_stops_further_invitations(client: Client, invitation: Invitation) -> None:
    response = client.post(unsubscribe_path(invitation))
    assert response.status_code == 200
    later = deliver("A-2")
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=365))
    invitations_schedule(order_ids=[later.pk])
    assert InvitationSkip.objects.get(order=later).reason == SkipReason.UNSUBSCRIBED
    invitation.refresh_from_db()
    assert invitation.state == "failed"
