"""The demo's extras (RETAIN_DEMO): a simulated ring on the operator's console, through the telephony webhook's own
path, and the owner's outbox of the survey emails and SMS the file backends wrote."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.demo import outbox
from customers.models import Call, CallState, Customer
from feedback.models import Invitation, InvitationState
from feedback.services import invitations_schedule
from messaging.models import Message
from messaging.services import messages_send_batch as invitations_send_batch
from shop.models import User
from shop.roles import Role
from tests.crm.test_production_settings import run_deploy_check
from tests.factories import make_user
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db
SECRET = "demo-test-secret"
RING = reverse("demo:call_ring")
OUTBOX = reverse("demo:outbox")
SEND_NEXT = reverse("demo:survey_send_next")
CONSOLE = reverse("call:console")


@pytest.fixture
def demo(settings: Any) -> None:
    settings.RETAIN_DEMO = True
    settings.TELEPHONY_WEBHOOK_SECRET = SECRET


@pytest.fixture
def files(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo's file backends: emails to a folder, SMS to a file, both under the test's own folder."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(tmp_path / "sms.log"))
    return tmp_path


def signed_in(user: User, language: str = "en") -> Client:
    User.objects.filter(pk=user.pk).update(language=language)
    client = Client()
    client.force_login(user)
    return client


def customer_with_phone(phone: str = "+79991234567") -> Customer:
    order = deliver("D-1", phone=phone, email="maria@example.com")
    return Customer.objects.get(pk=order.customer_id)


def due_invitation(order_id: str, *, sms: bool) -> Invitation:
    order = deliver(order_id, phone=f"+7999765{order_id[-4:].zfill(4)}", email=f"{order_id.lower()}@example.com")
    consent(order, email=not sms, sms=sms)
    invitations_schedule(order_ids=[order.pk])
    invitation = Invitation.objects.get(order=order)
    Message.objects.filter(survey_invitation=invitation).update(due_at=timezone.now() - timedelta(minutes=1))
    return invitation


# --- The simulated call ------------------------------------------------------------------------------------------


def test_the_console_offers_the_simulated_call_in_the_demo(demo: None, operator: User) -> None:
    page = signed_in(operator).get(CONSOLE)

    assert page.status_code == 200
    assert 'data-testid="demo-call-simulator"' in page.content.decode()


def test_the_console_has_no_simulated_call_outside_the_demo(operator: User) -> None:
    page = signed_in(operator).get(CONSOLE)

    assert page.status_code == 200
    assert "demo-call-simulator" not in page.content.decode()


def test_a_simulated_call_goes_through_the_webhook_path_and_pops_the_callers_card(demo: None, operator: User) -> None:
    customer = customer_with_phone("+79991234567")
    client = signed_in(operator)

    answer = client.post(RING, {"phone": "8 (999) 123-45-67"})

    assert answer.status_code == 302 and answer["Location"] == CONSOLE
    call = Call.objects.get()
    assert (call.provider, call.state, call.operator_id) == ("generic", CallState.RINGING, operator.pk)
    assert call.provider_call_id.startswith("demo-") and call.customer_id == customer.pk
    live = client.get(reverse("call:live")).json()["call"]
    assert live["id"] == call.pk
    card = client.get(live["card_url"])
    assert customer.name in card.content.decode()
    assert customer.name in client.get(CONSOLE).content.decode()


def test_a_simulated_call_without_a_number_rings_with_a_demo_customers_number(demo: None, operator: User) -> None:
    customer = customer_with_phone("+79990001122")

    signed_in(operator).post(RING, {"phone": ""})

    call = Call.objects.get()
    assert call.phone == "+79990001122" and call.customer_id == customer.pk


def test_hanging_up_a_simulated_call_before_answering_leaves_a_missed_call(demo: None, operator: User) -> None:
    customer_with_phone()
    client = signed_in(operator)
    client.post(RING, {"phone": "+79991234567"})
    call = Call.objects.get()

    client.post(reverse("demo:call_advance", args=[call.pk]), {"event": "hangup"})

    call.refresh_from_db()
    assert call.state == CallState.MISSED
    assert client.get(reverse("call:live")).json()["call"] is None


def test_answering_a_simulated_call_keeps_it_live(demo: None, operator: User) -> None:
    customer_with_phone()
    client = signed_in(operator)
    client.post(RING, {"phone": "+79991234567"})
    call = Call.objects.get()

    client.post(reverse("demo:call_advance", args=[call.pk]), {"event": "answered"})

    call.refresh_from_db()
    assert call.state == CallState.ANSWERED
    assert client.get(reverse("call:live")).json()["call"]["id"] == call.pk


def test_the_demo_cannot_answer_a_call_a_real_telephony_made(demo: None, operator: User) -> None:
    real = Call.objects.create(
        provider="zadarma", provider_call_id="pbx-1", phone="+79991234567", started_at=timezone.now(), operator=operator
    )

    signed_in(operator).post(reverse("demo:call_advance", args=[real.pk]), {"event": "hangup"})

    real.refresh_from_db()
    assert real.state == CallState.RINGING


def test_without_a_telephony_secret_the_simulated_call_says_so_and_rings_nothing(
    demo: None, operator: User, settings: Any
) -> None:
    settings.TELEPHONY_WEBHOOK_SECRET = ""

    page = signed_in(operator).post(RING, {"phone": "+79991234567"}, follow=True)

    assert "TELEPHONY_WEBHOOK_SECRET is not set" in page.content.decode()
    assert not Call.objects.exists()


def test_a_simulated_call_is_not_found_outside_the_demo(operator: User) -> None:
    assert signed_in(operator).post(RING, {"phone": "+79991234567"}).status_code == 404
    assert not Call.objects.exists()


def test_a_user_without_a_role_may_not_simulate_a_call(demo: None) -> None:
    assert signed_in(make_user(None)).post(RING, {"phone": "+79991234567"}).status_code == 403
    assert Client().post(RING, {"phone": "+79991234567"}).status_code == 302
    assert not Call.objects.exists()


def test_a_simulated_call_is_only_posted(demo: None, operator: User) -> None:
    assert signed_in(operator).get(RING).status_code == 405


# --- The outbox --------------------------------------------------------------------------------------------------


def test_the_outbox_shows_sent_survey_emails_and_sms_with_links_that_open_the_survey(
    demo: None, files: Path, owner: User
) -> None:
    by_email = due_invitation("E-0001", sms=False)
    by_sms = due_invitation("S-0002", sms=True)
    invitations_send_batch()
    client = signed_in(owner)

    page = client.get(OUTBOX)

    html = page.content.decode()
    assert page.status_code == 200
    assert by_email.address in html and by_sms.address in html
    links = [line.split('href="')[1].split('"')[0] for line in html.splitlines() if 'data-testid="survey-link"' in line]
    assert len(links) == 2 and all(link.startswith("/feedback/s/") for link in links)
    for link in links:
        survey = Client().get(link)
        assert survey.status_code == 200 and "<form" in survey.content.decode()


def test_the_outbox_reads_when_each_email_was_sent_as_a_moment_in_time(demo: None, files: Path) -> None:
    due_invitation("E-0005", sms=False)
    invitations_send_batch()

    (message,) = outbox.outbox_emails()

    assert message.sent_at is not None and message.sent_at.tzinfo is not None
    assert abs(message.sent_at - timezone.now()) < timedelta(minutes=1)
    assert message.survey_path.startswith("/feedback/s/") and "unsubscribe" not in message.survey_path


def test_the_outbox_sends_the_next_waiting_survey_through_the_file_backend(
    demo: None, files: Path, owner: User
) -> None:
    invitation = due_invitation("E-0003", sms=False)
    Message.objects.filter(survey_invitation=invitation).update(due_at=timezone.now() + timedelta(hours=12))
    client = signed_in(owner)

    answer = client.post(SEND_NEXT)

    invitation.refresh_from_db()
    assert answer.status_code == 302 and invitation.state == InvitationState.SENT
    assert invitation.address in client.get(OUTBOX).content.decode()


def test_sending_the_next_survey_with_none_waiting_says_so(demo: None, files: Path, owner: User) -> None:
    page = signed_in(owner).post(SEND_NEXT, follow=True)

    assert "No survey invitation is waiting" in page.content.decode()


def test_the_outbox_without_files_says_no_message_went_out_yet(demo: None, files: Path, owner: User) -> None:
    page = signed_in(owner).get(OUTBOX)

    assert page.status_code == 200
    assert "No SMS yet" in page.content.decode()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR])
def test_only_the_owner_sees_the_outbox(demo: None, files: Path, role: str) -> None:
    invitation = due_invitation("E-0004", sms=False)
    Message.objects.filter(survey_invitation=invitation).update(due_at=timezone.now() + timedelta(hours=12))
    client = signed_in(make_user(role))

    assert client.get(OUTBOX).status_code == 403
    assert client.post(SEND_NEXT).status_code == 403
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.DUE
    assert "demo-outbox" not in client.get(CONSOLE).content.decode()


def test_the_owners_menu_links_the_outbox_in_the_demo_only(owner: User, settings: Any) -> None:
    client = signed_in(owner)
    assert 'data-nav="demo-outbox"' not in client.get(CONSOLE).content.decode()

    settings.RETAIN_DEMO = True

    assert 'data-nav="demo-outbox"' in client.get(CONSOLE).content.decode()


def test_the_outbox_is_not_found_outside_the_demo(owner: User) -> None:
    client = signed_in(owner)

    assert client.get(OUTBOX).status_code == 404
    assert client.post(SEND_NEXT).status_code == 404


def test_production_refuses_the_demo_setting() -> None:
    result = run_deploy_check(RETAIN_DEMO="1")

    assert result.returncode != 0
    assert "RETAIN_DEMO must not be set when DJANGO_ENV=production" in result.stderr


def test_the_demo_panels_speak_russian(demo: None, files: Path, owner: User) -> None:
    client = signed_in(owner, language="ru")

    assert "Имитировать входящий звонок" in client.get(CONSOLE).content.decode()
    assert "Исходящие сообщения демо" in client.get(OUTBOX).content.decode()
