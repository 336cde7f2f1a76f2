import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail.backends import locmem
from django.utils import timezone, translation

from feedback.links import token_unsign
from feedback.models import Invitation, InvitationState, Unsubscribe
from feedback.services import (
    customer_unsubscribe,
    invitations_schedule,
    reminders_send,
    survey_url,
    unsubscribe_url,
)
from messaging.backends import FileSmsBackend
from messaging.models import Message, MessageState
from messaging.reasons import MessageReason, reason_parse
from messaging.services import (
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    delivery,
    message_send,
    messages_claim,
    messages_mark_stale_claims,
    messages_send_batch,
)
from messaging.tasks import messages_send_batch_task as invitations_send_batch_task
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db


def _html(message: mail.EmailMessage) -> str:
    assert isinstance(message, mail.EmailMultiAlternatives)
    return str(message.alternatives[0][0])


def _message(invitation: Invitation) -> int:
    assert invitation.message_id is not None
    return invitation.message_id


def _due_invitation(order_id: str = "A-1", *, sms: bool = False, language: str = "ru") -> Invitation:
    order = deliver(
        order_id, phone=f"+7999123{order_id[-4:].zfill(4)}", email=f"{order_id}@example.com", language=language
    )
    consent(order, email=not sms, sms=sms)
    invitations_schedule(order_ids=[order.pk])
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    return Invitation.objects.get(order=order)


def test_due_email_invitation_is_sent_once_in_the_customers_language() -> None:
    invitation = _due_invitation(language="en")
    invitations_send_batch_task()
    invitations_send_batch_task()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [invitation.address]
    assert "How was your order" in message.subject
    assert "/feedback/s/" in message.body
    assert "/feedback/s/" in _html(message)
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SENT and invitation.sent_at is not None


def test_the_email_is_rendered_in_the_customers_language_not_the_senders() -> None:
    _due_invitation(language="ru")
    with translation.override("en"):
        invitations_send_batch_task()
    assert '<html lang="ru">' in _html(mail.outbox[0])


def test_sms_goes_through_the_file_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = tmp_path / "sms.log"
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(sink))
    invitation = _due_invitation(sms=True)
    invitations_send_batch_task()
    lines = sink.read_text().splitlines()
    assert len(lines) == 1
    assert invitation.message is not None
    assert lines[0].startswith(f"{invitation.message.client_id}\t{invitation.address}\t")


def test_a_claimed_invitation_is_not_sent_by_a_second_sender() -> None:
    invitation = _due_invitation()
    Message.objects.filter(pk=_message(invitation)).update(state=MessageState.SENDING, claimed_at=timezone.now())
    assert message_send(message_id=_message(invitation)) == "skipped"
    assert mail.outbox == []


def test_failed_send_is_retried_later_then_marked_failed_with_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An SMS file in a folder that does not exist: the backend raises like a gateway that is down.
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(tmp_path / "missing" / "sms.log"))
    invitation = _due_invitation(sms=True)
    assert message_send(message_id=_message(invitation)) == MessageState.DUE
    invitation.refresh_from_db()
    assert invitation.message is not None and invitation.message.due_at > timezone.now() and invitation.error
    for _attempt in range(MAX_ATTEMPTS - 1):
        Message.objects.filter(pk=_message(invitation)).update(due_at=timezone.now())
        state = message_send(message_id=_message(invitation))
    assert state == MessageState.FAILED
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.FAILED
    # The system's own words kept as the provider's detail, under the reason's label.
    code, params = reason_parse(invitation.error)
    assert code == MessageReason.PROVIDER and "No such file" in params["detail"]


def test_a_claim_left_by_a_dead_worker_becomes_unknown_and_is_never_resent() -> None:
    invitation = _due_invitation()
    claimed_at = timezone.now() - CLAIM_TIMEOUT - timedelta(seconds=1)
    Message.objects.filter(pk=_message(invitation)).update(
        state=MessageState.SENDING, claimed_at=claimed_at, attempted_at=claimed_at
    )
    assert messages_mark_stale_claims() == 1
    invitations_send_batch_task()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.UNKNOWN
    assert mail.outbox == []


def test_a_survey_left_in_doubt_by_a_database_restart_keeps_its_messages_reason() -> None:
    invitation = _due_invitation()
    claimed_at = timezone.now() - CLAIM_TIMEOUT - timedelta(seconds=1)
    # Claimed under an earlier run of the database server, never attempted as far as the database remembers.
    Message.objects.filter(pk=_message(invitation)).update(
        state=MessageState.SENDING, claimed_at=claimed_at, claimed_on=claimed_at - timedelta(days=1)
    )
    with translation.override("ru"):
        assert messages_mark_stale_claims() == 1
    invitation.refresh_from_db()
    assert (invitation.state, invitation.error) == (InvitationState.UNKNOWN, MessageReason.DATABASE_RESTARTED)
    with translation.override("en"):
        assert invitation.reason_text == (
            "The database restarted while this was being sent; the message may have left."
        )


def test_one_reminder_after_the_set_days_if_unanswered() -> None:
    invitation = _due_invitation()
    invitations_send_batch_task()
    Invitation.objects.filter(pk=invitation.pk).update(reminder_due_at=timezone.now() - timedelta(minutes=1))
    assert reminders_send() == 1
    assert reminders_send() == 0
    assert len(mail.outbox) == 2


def _due_batch(count: int, *, sms: bool = False) -> list[Invitation]:
    return [_due_invitation(f"B-{number:04d}", sms=sms) for number in range(count)]


def test_a_batch_of_emails_goes_over_one_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    _due_batch(3)
    opened: list[object] = []

    def counting_connection(**kwargs: Any) -> Any:
        connection = mail.get_connection(**kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(delivery, "get_connection", counting_connection)
    assert messages_send_batch(limit=10) == 3
    assert len(mail.outbox) == 3 and len(opened) == 1
    assert set(Invitation.objects.values_list("state", flat=True)) == {InvitationState.SENT}


def _signed_token(link: str, expected: str) -> str:
    """The public token a signed survey link carries, after checking it is the expected link but for its signed
    part (made in its own second)."""
    signed, expected_signed = (re.search(r"/s/([^/]+)/", url).group(1) for url in (link, expected))  # type: ignore[union-attr]
    assert link.replace(signed, "") == expected.replace(expected_signed, "")
    return token_unsign(signed)


def test_the_email_offers_one_click_unsubscribe_and_escapes_the_order_number_in_html() -> None:
    invitation = _due_invitation("<b>&1", language="en")
    messages_send_batch()
    message = mail.outbox[0]
    # The links are signed with the second they were made in: compare what they sign, not their text.
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">")
    assert _signed_token(header[1:-1], unsubscribe_url(invitation)) == invitation.public_token
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<b>&1" in message.body
    survey_link = re.search(r"https?://\S+", str(message.body))
    assert survey_link is not None
    assert _signed_token(survey_link.group(0), survey_url(invitation)) == invitation.public_token
    assert "&lt;b&gt;&amp;1" in _html(message) and "<b>&1" not in _html(message)


def test_a_dead_workers_claim_is_settled_unknown_for_the_rows_it_attempted_and_due_for_the_rest() -> None:
    _due_batch(5, sms=True)
    claimed = messages_claim(limit=10)
    assert [row.pk for row in claimed] == sorted(row.pk for row in claimed)
    # The worker recorded its attempt of the first message and died in the provider's call: that one may have
    # left, the rest never did.
    Message.objects.filter(pk=claimed[0].pk).update(attempted_at=timezone.now(), attempts=1)
    later = timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1)
    assert messages_mark_stale_claims(now=later) == 1
    states = list(Message.objects.order_by("pk").values_list("state", "attempts"))
    assert states == [(MessageState.UNKNOWN, 1)] + [(MessageState.DUE, 0)] * 4
    assert (
        list(Invitation.objects.order_by("pk").values_list("state", flat=True))
        == [InvitationState.UNKNOWN] + [InvitationState.DUE] * 4
    )


def test_a_fresh_claim_is_left_alone_by_the_sweep() -> None:
    _due_batch(2, sms=True)
    messages_claim(limit=10)
    assert messages_mark_stale_claims() == 0
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.SENDING}


def test_a_soft_time_limit_mid_batch_marks_the_message_in_flight_unknown_and_gives_the_rest_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(tmp_path / "sms.log"))
    _due_batch(4, sms=True)
    calls: list[str] = []
    original = FileSmsBackend.send

    def send(self: FileSmsBackend, *, phone: str, text: str, message_id: str) -> None:
        calls.append(message_id)
        if len(calls) == 2:
            raise SoftTimeLimitExceeded
        original(self, phone=phone, text=text, message_id=message_id)

    monkeypatch.setattr(FileSmsBackend, "send", send)
    with pytest.raises(SoftTimeLimitExceeded):
        messages_send_batch(limit=10)
    states = list(Invitation.objects.order_by("pk").values_list("state", flat=True))
    assert states == [InvitationState.SENT, InvitationState.UNKNOWN, InvitationState.DUE, InvitationState.DUE]


def test_reminders_skip_customers_who_unsubscribed_after_the_survey() -> None:
    invitation = _due_invitation()
    invitations_send_batch_task()
    Invitation.objects.filter(pk=invitation.pk).update(reminder_due_at=timezone.now() - timedelta(minutes=1))
    Unsubscribe.objects.create(customer_id=invitation.customer_id)
    assert reminders_send() == 0
    assert len(mail.outbox) == 1


def test_a_claim_is_sent_emails_first_then_sms_and_only_the_attempted_ones_are_settled_unknown() -> None:
    sms = _due_invitation("C-0001", sms=True)
    emails = [_due_invitation("C-0002"), _due_invitation("C-0003")]
    claimed = messages_claim(limit=10)
    assert [row.pk for row in claimed] == [emails[0].message_id, emails[1].message_id, sms.message_id]
    Message.objects.filter(pk=_message(emails[0])).update(attempted_at=timezone.now())
    assert messages_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1)) == 1
    assert dict(Invitation.objects.values_list("pk", "state")) == {
        emails[0].pk: InvitationState.UNKNOWN,
        emails[1].pk: InvitationState.DUE,
        sms.pk: InvitationState.DUE,
    }


class DropsOnce(locmem.EmailBackend):
    """A locmem backend whose session drops on the first message it is given (a fresh session then works)."""

    opened = 0

    def open(self) -> bool:
        DropsOnce.opened += 1
        self.dropped = DropsOnce.opened == 1
        return True

    def send_messages(self, messages: Sequence[mail.EmailMessage]) -> int:
        if self.dropped:
            raise ConnectionResetError("session dropped")
        return super().send_messages(messages)


def test_an_email_session_that_drops_is_reopened_for_the_next_message(settings: Any) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.DropsOnce"
    DropsOnce.opened = 0
    first, second = _due_batch(2)
    messages_send_batch()
    assert DropsOnce.opened == 2
    assert dict(Invitation.objects.values_list("pk", "state")) == {
        first.pk: InvitationState.DUE,
        second.pk: InvitationState.SENT,
    }
    assert len(mail.outbox) == 1 and "session dropped" in Invitation.objects.get(pk=first.pk).error


def test_unsubscribing_after_the_survey_drops_its_pending_reminder() -> None:
    invitation = _due_invitation()
    invitations_send_batch_task()
    customer_unsubscribe(customer_id=invitation.customer_id)
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SENT and invitation.reminder_due_at is None
