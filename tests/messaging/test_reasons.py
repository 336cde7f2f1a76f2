"""Why a message did not leave is stored as a code and read in the reader's language, whichever language the
worker that recorded it spoke: the cap, the sweep, a provider's refusal, the personal-data export."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Customer
from messaging.models import Message, MessageState, MessagingSettings, Purpose
from messaging.reasons import MessageReason, reason_parse, reason_store, reason_text
from messaging.services import CLAIM_TIMEOUT, messages_claim, messages_mark_stale_claims
from shop.roles import Role
from tests.factories import CustomerFactory, MessageFactory, make_user

pytestmark = pytest.mark.django_db

CAPPED = {
    "en": "Not sent: the customer already had 2 messages in 7 days.",
    "ru": "Не отправлено: покупатель уже получил 2 сообщ. за 7 дн.",
}
WORKER_STOPPED = {
    "en": "The worker stopped while sending; the message may have left.",
    "ru": "Обработчик остановился во время отправки; сообщение могло уйти.",
}


def _refused_by_the_cap(customer: Customer | None = None) -> Message:
    """A marketing message the claim refuses: the customer already had two messages this week (the cap is 2)."""
    MessagingSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 2, "cap_days": 7})
    customer = customer or CustomerFactory.create(email_consent=True)
    for _number in range(2):
        MessageFactory.create(customer=customer, state=MessageState.SENT, claimed_at=timezone.now())
    offer = MessageFactory.create(customer=customer, purpose=Purpose.MARKETING)
    messages_claim()
    offer.refresh_from_db()
    assert offer.state == MessageState.CANCELLED
    return offer


@pytest.mark.parametrize(("recorded_in", "read_in"), [("ru", "en"), ("en", "ru")])
def test_a_reason_recorded_in_one_language_reads_in_the_readers(recorded_in: str, read_in: str) -> None:
    with translation.override(recorded_in):
        offer = _refused_by_the_cap()
    with translation.override(read_in):
        assert offer.reason_text == CAPPED[read_in]


def test_the_cap_stores_its_code_with_its_figures_not_a_sentence() -> None:
    with translation.override("ru"):
        offer = _refused_by_the_cap()
    assert reason_parse(offer.error) == (MessageReason.CAPPED, {"n": 2, "days": 7})


@pytest.mark.parametrize(("recorded_in", "read_in"), [("ru", "en"), ("en", "ru")])
def test_the_sweeps_reason_reads_in_the_readers_language(recorded_in: str, read_in: str) -> None:
    message = MessageFactory.create()
    messages_claim()
    Message.objects.update(attempted_at=timezone.now())  # the worker died during the provider's call
    with translation.override(recorded_in):
        assert messages_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert (message.state, message.error) == (MessageState.UNKNOWN, MessageReason.WORKER_STOPPED)
    with translation.override(read_in):
        assert message.reason_text == WORKER_STOPPED[read_in]


def test_a_providers_words_are_shown_as_they_came_under_a_label_in_the_readers_language() -> None:
    stored = reason_store(MessageReason.PROVIDER, detail="Invalid number")
    with translation.override("ru"):
        assert reason_text(stored) == "Провайдер отказал: Invalid number"
    with translation.override("en"):
        assert reason_text(stored) == "The provider refused: Invalid number"


def test_text_that_is_no_stored_reason_is_shown_as_it_was_under_a_label() -> None:
    with translation.override("ru"):
        assert reason_text("Something odd") == "Записано как: Something odd"
    assert reason_parse("capped not json") == (MessageReason.OTHER, {"detail": "capped not json"})


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_personal_data_export_gives_the_reasons_code_and_its_words_in_the_readers_language(
    client: Client, language: str
) -> None:
    customer = CustomerFactory.create(email_consent=True)
    with translation.override("ru" if language == "en" else "en"):  # recorded in the other language
        _refused_by_the_cap(customer)
    client.force_login(make_user(Role.OWNER, language=language))
    response = client.get(reverse("customer_personal_data", args=[customer.pk]))
    assert response.status_code == 200
    rows = json.loads(response.content)["messages"]
    refused = [row for row in rows if row["state"] == MessageState.CANCELLED]
    assert [(row["reason"], row["reason_text"]) for row in refused] == [(MessageReason.CAPPED, CAPPED[language])]
    assert {row["reason"] for row in rows if row["state"] == MessageState.SENT} == {None}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_admin_lists_and_shows_the_reason_in_the_readers_language(client: Client, language: str) -> None:
    with translation.override("ru" if language == "en" else "en"):
        offer = _refused_by_the_cap()
    client.force_login(make_user(None, language=language, is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:messaging_message_changelist")).content.decode()
    page = client.get(reverse("admin:messaging_message_change", args=[offer.pk])).content.decode()
    assert CAPPED[language] in listing and CAPPED[language] in page
    assert "capped {" not in page  # the stored code is not offered for editing
