"""The outbox: queuing by purpose, each attempt committed before its provider call, unknowns and their resend."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from messaging.backends import FileSmsBackend, SmsMessage
from messaging.models import Channel, Message, MessageState, Purpose
from messaging.services import (
    CLAIM_TIMEOUT,
    MessageData,
    customers_over_cap,
    messages_claim,
    messages_enqueue,
    messages_mark_stale_claims,
    messages_send_batch,
)
from tests.factories import CustomerFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _data(customer_id: int, **overrides: Any) -> MessageData:
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "channel": Channel.EMAIL,
        "purpose": Purpose.MARKETING,
        "address": "anna@example.com",
        "kind": "test.offer",
        "source": f"offer:{customer_id}",
        "due_at": timezone.now() - timedelta(minutes=1),
        "subject": "Скидка",
        "body": "Скидка 10 %",
        **overrides,
    }
    return MessageData(**values)


def test_queuing_the_same_kind_and_source_twice_keeps_one_message() -> None:
    customer = CustomerFactory.create(email_consent=True)
    first = messages_enqueue(items=[_data(customer.pk)])
    second = messages_enqueue(items=[_data(customer.pk)])
    assert first == second and Message.objects.count() == 1


def test_a_marketing_message_without_the_channels_consent_is_refused_at_queuing() -> None:
    customer = CustomerFactory.create(email_consent=False, sms_consent=True)
    queued = messages_enqueue(items=[_data(customer.pk)])
    assert queued == {} and not Message.objects.exists()


def test_a_service_message_needs_no_marketing_consent() -> None:
    customer = CustomerFactory.create(email_consent=False)
    assert len(messages_enqueue(items=[_data(customer.pk, purpose=Purpose.SERVICE)])) == 1


def test_nothing_is_queued_for_an_erased_customer() -> None:
    customer = CustomerFactory.create(email_consent=True, erased_at=timezone.now())
    assert messages_enqueue(items=[_data(customer.pk, purpose=Purpose.SERVICE)]) == {}


def test_a_marketing_message_whose_consent_was_withdrawn_after_queuing_is_cancelled_not_sent() -> None:
    customer = CustomerFactory.create(email_consent=True)
    messages_enqueue(items=[_data(customer.pk)])
    customer.email_consent = False
    customer.save(update_fields=["email_consent"])
    messages_send_batch()
    assert mail.outbox == []
    assert Message.objects.get().state == MessageState.CANCELLED


def test_each_message_is_recorded_as_attempted_before_its_provider_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(tmp_path / "sms.log"))
    messages = [MessageFactory.create(channel=Channel.SMS, address=f"+7999000000{n}") for n in range(3)]
    seen: list[tuple[str, bool]] = []
    original = FileSmsBackend.send

    def send(self: FileSmsBackend, *, phone: str, text: str, message_id: str) -> None:
        rows = dict(Message.objects.values_list("address", "attempted_at"))
        seen.append((phone, rows[phone] is not None))
        original(self, phone=phone, text=text, message_id=message_id)

    monkeypatch.setattr(FileSmsBackend, "send", send)
    messages_send_batch()
    assert [row[1] for row in seen] == [True, True, True]
    assert Message.objects.filter(attempted_at__isnull=False).count() == len(messages)


def test_the_attempt_of_a_message_is_recorded_before_the_next_message_is_attempted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(tmp_path / "sms.log"))
    first, second = (MessageFactory.create(channel=Channel.SMS, address=f"+7999000000{n}") for n in range(2))
    attempted_when_first_left: list[set[int]] = []
    original = FileSmsBackend.send_many

    def send_many(self: FileSmsBackend, messages: list[SmsMessage]) -> list[str | None]:
        attempted_when_first_left.append(
            set(Message.objects.filter(attempted_at__isnull=False).values_list("pk", flat=True))
        )
        return original(self, messages)

    monkeypatch.setattr(FileSmsBackend, "send_many", send_many)
    messages_send_batch()
    assert attempted_when_first_left == [{first.pk}, {first.pk, second.pk}]


def test_a_stale_attempted_message_is_sent_again_with_the_same_id_when_the_provider_deduplicates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sink = tmp_path / "sms.log"
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(sink))
    monkeypatch.setenv("MESSAGING_SMS_FILE_DEDUPLICATES", "1")
    message = MessageFactory.create(channel=Channel.SMS, address="+79990000001")
    # The worker's call reached the provider, then the worker died before recording the outcome.
    messages_claim()
    Message.objects.filter(pk=message.pk).update(attempted_at=timezone.now(), attempts=1)
    FileSmsBackend(str(sink)).send(phone=message.address, text="…", message_id=message.client_id)
    assert messages_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1)) == 0
    messages_send_batch()
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert [line.split("\t")[0] for line in sink.read_text().splitlines()] == [message.client_id]


def test_a_stale_attempted_email_stays_unknown_when_the_mail_provider_does_not_deduplicate() -> None:
    message = MessageFactory.create()
    messages_claim()
    Message.objects.filter(pk=message.pk).update(attempted_at=timezone.now(), attempts=1)
    assert messages_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1)) == 1
    messages_send_batch()
    assert mail.outbox == []
    assert Message.objects.get().state == MessageState.UNKNOWN


def test_every_email_carries_its_message_id_the_same_on_every_attempt() -> None:
    message = MessageFactory.create()
    messages_send_batch()
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<{message.client_id}@retain>"


def test_the_cap_counts_every_kind_of_message_of_a_customer_in_the_window() -> None:
    capped, free = CustomerFactory.create(), CustomerFactory.create()
    MessageFactory.create(customer=capped, kind="survey.invitation")
    MessageFactory.create(customer=capped, kind="test.offer")
    MessageFactory.create(customer=free, kind="test.offer")
    MessageFactory.create(customer=free, kind="test.offer", state=MessageState.CANCELLED)
    assert customers_over_cap(customer_ids=[capped.pk, free.pk], limit=2, days=7) == {capped.pk}
