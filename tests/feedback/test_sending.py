from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail.backends import locmem
from django.utils import timezone, translation

from feedback.models import Invitation, InvitationState, Unsubscribe
from feedback.services import (
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    customer_unsubscribe,
    invitation_send,
    invitations_claim,
    invitations_mark_stale_claims,
    invitations_schedule,
    invitations_send_batch,
    reminders_send,
    sending,
    survey_url,
    unsubscribe_url,
)
from feedback.sms import FileSmsBackend
from feedback.tasks import invitations_send_batch_task
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db


def _html(message: mail.EmailMessage) -> str:
    assert isinstance(message, mail.EmailMultiAlternatives)
    return str(message.alternatives[0][0])


def _due_invitation(order_id: str = "A-1", *, sms: bool = False, language: str = "ru") -> Invitation:
    order = deliver(
        order_id, phone=f"+7999123{order_id[-4:].zfill(4)}", email=f"{order_id}@example.com", language=language
    )
    consent(order, email=not sms, sms=sms)
    invitations_schedule(order_ids=[order.pk])
    Invitation.objects.update(due_at=timezone.now() - timedelta(minutes=1))
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
    monkeypatch.setenv("FEEDBACK_SMS_FILE", str(sink))
    invitation = _due_invitation(sms=True)
    invitations_send_batch_task()
    lines = sink.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{invitation.pk}-0\t{invitation.address}\t")


def test_a_claimed_invitation_is_not_sent_by_a_second_sender() -> None:
    invitation = _due_invitation()
    Invitation.objects.filter(pk=invitation.pk).update(state=InvitationState.SENDING, claimed_at=timezone.now())
    assert invitation_send(invitation_id=invitation.pk) == "skipped"
    assert mail.outbox == []


def test_failed_send_is_retried_later_then_marked_failed_with_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An SMS file in a folder that does not exist: the backend raises like a gateway that is down.
    monkeypatch.setenv("FEEDBACK_SMS_FILE", str(tmp_path / "missing" / "sms.log"))
    invitation = _due_invitation(sms=True)
    assert invitation_send(invitation_id=invitation.pk) == InvitationState.DUE
    invitation.refresh_from_db()
    assert invitation.due_at > timezone.now() and invitation.error
    for _attempt in range(MAX_ATTEMPTS - 1):
        Invitation.objects.filter(pk=invitation.pk).update(due_at=timezone.now())
        state = invitation_send(invitation_id=invitation.pk)
    assert state == InvitationState.FAILED
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.FAILED and "No such file" in invitation.error


def test_a_claim_left_by_a_dead_worker_becomes_unknown_and_is_never_resent() -> None:
    invitation = _due_invitation()
    Invitation.objects.filter(pk=invitation.pk).update(
        state=InvitationState.SENDING, claimed_at=timezone.now() - CLAIM_TIMEOUT - timedelta(seconds=1)
    )
    assert invitations_mark_stale_claims() == 1
    invitations_send_batch_task()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.UNKNOWN
    assert mail.outbox == []


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

    monkeypatch.setattr(sending, "get_connection", counting_connection)
    assert invitations_send_batch(limit=10) == 3
    assert len(mail.outbox) == 3 and len(opened) == 1
    assert set(Invitation.objects.values_list("state", flat=True)) == {InvitationState.SENT}


def test_the_email_offers_one_click_unsubscribe_and_escapes_the_order_number_in_html() -> None:
    invitation = _due_invitation("<b>&1", language="en")
    invitations_send_batch()
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url(invitation)}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<b>&1" in message.body and survey_url(invitation) in message.body
    assert "&lt;b&gt;&amp;1" in _html(message) and "<b>&1" not in _html(message)


def test_a_dead_workers_claim_is_settled_unknown_for_the_rows_it_may_have_sent_and_due_for_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sending, "MARK_EVERY", 2)
    _due_batch(5, sms=True)
    claimed = invitations_claim(limit=10)
    assert [row.pk for row in claimed] == sorted(row.pk for row in claimed)
    # The worker died before recording anything: the first two in key order may have left, the rest never did.
    later = timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1)
    assert invitations_mark_stale_claims(now=later) == 2
    states = list(Invitation.objects.order_by("pk").values_list("state", "attempts"))
    assert states == [(InvitationState.UNKNOWN, 1)] * 2 + [(InvitationState.DUE, 0)] * 3


def test_a_fresh_claim_is_left_alone_by_the_sweep() -> None:
    _due_batch(2, sms=True)
    invitations_claim(limit=10)
    assert invitations_mark_stale_claims() == 0
    assert set(Invitation.objects.values_list("state", flat=True)) == {InvitationState.SENDING}


def test_a_soft_time_limit_mid_batch_marks_the_message_in_flight_unknown_and_gives_the_rest_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FEEDBACK_SMS_FILE", str(tmp_path / "sms.log"))
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
        invitations_send_batch(limit=10)
    states = list(Invitation.objects.order_by("pk").values_list("state", flat=True))
    assert states == [InvitationState.SENT, InvitationState.UNKNOWN, InvitationState.DUE, InvitationState.DUE]


def test_reminders_skip_customers_who_unsubscribed_after_the_survey() -> None:
    invitation = _due_invitation()
    invitations_send_batch_task()
    Invitation.objects.filter(pk=invitation.pk).update(reminder_due_at=timezone.now() - timedelta(minutes=1))
    Unsubscribe.objects.create(customer_id=invitation.customer_id)
    assert reminders_send() == 0
    assert len(mail.outbox) == 1


def test_a_claim_is_sent_emails_first_then_sms_and_settled_in_that_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sending, "MARK_EVERY", 2)
    sms = _due_invitation("C-0001", sms=True)
    emails = [_due_invitation("C-0002"), _due_invitation("C-0003")]
    assert [row.pk for row in invitations_claim(limit=10)] == [emails[0].pk, emails[1].pk, sms.pk]
    assert invitations_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1)) == 2
    assert dict(Invitation.objects.values_list("pk", "state")) == {
        emails[0].pk: InvitationState.UNKNOWN,
        emails[1].pk: InvitationState.UNKNOWN,
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
    invitations_send_batch()
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
