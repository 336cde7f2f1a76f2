"""The SMS provider interface: SMS.ru's batch form, one request for a group, an answer per message."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from feedback.models import Invitation, InvitationState
from feedback.services import invitations_schedule
from messaging.backends import SmsMessage, SmsRuBackend, sms_backend
from messaging.models import Message
from messaging.reasons import MessageReason, reason_parse
from messaging.services import messages_send_batch
from tests.feedback.helpers import consent, deliver


class FakeGateway:
    """Stands in for SMS.ru's HTTP answer: refuses the phones it is told to, accepts the others."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.requests: list[dict[str, str]] = []
        self.refuse = refuse

    def answer(self, fields: dict[str, str]) -> dict[str, Any]:
        self.requests.append(fields)
        phones = [name[len("multi[") : -1] for name in fields if name.startswith("multi[")]
        return {
            "status": "OK",
            "sms": {
                phone: {"status": "ERROR", "status_text": "Invalid number"}
                if phone in self.refuse
                else {"status": "OK", "sms_id": f"id-{phone}"}
                for phone in phones
            },
        }


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    fake = FakeGateway(refuse=frozenset({"79990000002"}))
    monkeypatch.setattr(SmsRuBackend, "_post", lambda backend, fields: fake.answer(fields))
    monkeypatch.setenv("SMS_RU_API_ID", "test-api-id")
    return fake


def test_the_gateway_is_chosen_when_its_key_is_set(gateway: FakeGateway) -> None:
    assert isinstance(sms_backend(), SmsRuBackend)


def test_one_request_carries_different_messages_and_each_gets_its_own_answer(gateway: FakeGateway) -> None:
    backend = SmsRuBackend("key")
    messages = [SmsMessage(phone=f"+7999000000{n}", text=f"text {n}", message_id=str(n)) for n in (1, 2, 3)]
    assert backend.send_many(messages) == [None, "Invalid number", None]
    assert gateway.requests == [
        {
            "api_id": "key",
            "json": "1",
            "multi[79990000001]": "text 1",
            "multi[79990000002]": "text 2",
            "multi[79990000003]": "text 3",
        }
    ]


def test_two_messages_to_one_phone_go_in_separate_requests_and_keep_their_answers(gateway: FakeGateway) -> None:
    messages = [
        SmsMessage(phone="+79990000001", text="first", message_id="1"),
        SmsMessage(phone="+79990000001", text="second", message_id="2"),
        SmsMessage(phone="+79990000002", text="third", message_id="3"),
    ]
    assert SmsRuBackend("key").send_many(messages) == [None, None, "Invalid number"]
    assert [sorted(request) for request in gateway.requests] == [
        ["api_id", "json", "multi[79990000001]", "multi[79990000002]"],
        ["api_id", "json", "multi[79990000001]"],
    ]
    assert gateway.requests[1]["multi[79990000001]"] == "second"


def test_a_refusal_of_the_whole_request_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SmsRuBackend, "_post", lambda self, fields: {"status": "ERROR", "status_text": "No money"})
    with pytest.raises(RuntimeError, match="No money"):
        SmsRuBackend("key").send_many([SmsMessage(phone="+79990000001", text="t", message_id="1")])


@pytest.mark.django_db
def test_a_batch_of_sms_goes_in_one_request_and_a_refused_number_is_retried_later(gateway: FakeGateway) -> None:
    for number in (1, 2, 3):
        order = deliver(f"G-{number}", phone=f"+7999000000{number}", email="")
        consent(order, email=False, sms=True)
        invitations_schedule(order_ids=[order.pk])
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    assert messages_send_batch(limit=10) == 3
    assert len(gateway.requests) == 1
    states = dict(Invitation.objects.values_list("address", "state"))
    assert states == {
        "+79990000001": InvitationState.SENT,
        "+79990000002": InvitationState.DUE,
        "+79990000003": InvitationState.SENT,
    }
    refused = Invitation.objects.get(address="+79990000002")
    assert reason_parse(refused.error) == (MessageReason.PROVIDER, {"detail": "Invalid number"})
    assert refused.message is not None
    assert refused.message.due_at > timezone.now()


@pytest.mark.django_db
def test_the_gateways_id_of_each_accepted_sms_is_kept_on_its_message(gateway: FakeGateway) -> None:
    for number in (1, 2):
        order = deliver(f"P-{number}", phone=f"+7999000000{number}", email="")
        consent(order, email=False, sms=True)
        invitations_schedule(order_ids=[order.pk])
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    messages_send_batch(limit=10)
    assert dict(Message.objects.values_list("address", "provider_id")) == {
        "+79990000001": "id-79990000001",
        "+79990000002": "",
    }
