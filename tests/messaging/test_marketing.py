"""Marketing messages: the one-click unsubscribe they all carry, and what it does."""

import re

import pytest
from django.core import mail
from django.test import Client

from customers.models import ConsentChange
from messaging.links import unsubscribe_token, unsubscribe_url
from messaging.models import Channel, Message, MessageState, Purpose
from messaging.services import UNSUBSCRIBE_SOURCE, messages_send_batch
from tests.factories import CustomerFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _marketing(**kwargs: object) -> Message:
    customer = CustomerFactory.create(email_consent=True, sms_consent=True, language="ru")
    return MessageFactory.create(customer=customer, purpose=Purpose.MARKETING, **kwargs)


def test_a_marketing_email_offers_one_click_unsubscribe_in_its_headers_and_its_text() -> None:
    message = _marketing()
    messages_send_batch()
    email = mail.outbox[0]
    url = unsubscribe_url(message.pk)
    assert email.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in email.body


def test_a_service_email_carries_no_marketing_unsubscribe() -> None:
    MessageFactory.create(customer=CustomerFactory.create())
    messages_send_batch()
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers


def test_a_marketing_sms_ends_with_a_short_unsubscribe_link_in_the_customers_language(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = f"{tmp_path}/sms.log"
    monkeypatch.setenv("MESSAGING_SMS_FILE", sink)
    message = _marketing(channel=Channel.SMS, address="+79990000001", body="Скидка 10 %")
    messages_send_batch()
    with open(sink, encoding="utf-8") as file:
        text = file.read()
    assert f"Отписаться: {unsubscribe_url(message.pk)}" in text
    assert re.search(r"/u/[0-9a-z]+-[0-9a-f]{12}/", text)


def test_opening_the_unsubscribe_link_asks_to_confirm_and_changes_nothing(client: Client) -> None:
    message = _marketing()
    response = client.get(f"/u/{unsubscribe_token(message.pk)}/")
    assert response.status_code == 200
    assert "<form" in response.content.decode()
    message.customer.refresh_from_db()
    assert message.customer.email_consent is True


def test_the_unsubscribe_page_is_not_stored_and_sends_no_referrer(client: Client) -> None:
    response = client.get(f"/u/{unsubscribe_token(_marketing().pk)}/")

    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_one_click_post_withdraws_the_channels_consent_with_its_source_and_cancels_waiting_offers() -> None:
    message = _marketing()
    other_offer = MessageFactory.create(customer=message.customer, purpose=Purpose.MARKETING)
    survey = MessageFactory.create(customer=message.customer, purpose=Purpose.SERVICE)
    # A mail client's one-click POST carries no session and no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        f"/u/{unsubscribe_token(message.pk)}/", {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    customer = message.customer
    customer.refresh_from_db()
    assert (customer.email_consent, customer.sms_consent) == (False, True)
    change = ConsentChange.objects.get(customer=customer)
    assert (change.channel, change.granted, change.source) == ("email", False, UNSUBSCRIBE_SOURCE)
    states = dict(Message.objects.values_list("pk", "state"))
    assert states[other_offer.pk] == MessageState.CANCELLED
    assert states[survey.pk] == MessageState.DUE


def test_a_second_unsubscribe_records_nothing_more(client: Client) -> None:
    message = _marketing()
    for _click in range(2):
        client.post(f"/u/{unsubscribe_token(message.pk)}/")
    assert ConsentChange.objects.count() == 1


def test_a_tampered_unsubscribe_link_gets_a_not_found_page_and_changes_nothing(client: Client) -> None:
    message = _marketing()
    token = unsubscribe_token(message.pk)
    response = client.post(f"/u/{token[:-1]}0/" if not token.endswith("0") else f"/u/{token[:-1]}1/")
    assert response.status_code == 404
    assert not ConsentChange.objects.exists()


def test_the_confirmation_page_speaks_the_customers_language(client: Client) -> None:
    message = _marketing()
    response = client.get(f"/u/{unsubscribe_token(message.pk)}/")
    assert "Отписаться от предложений" in response.content.decode()
