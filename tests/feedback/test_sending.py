from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone, translation

from feedback.models import Invitation, InvitationState
from feedback.services import (
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    invitation_send,
    invitations_mark_stale_claims,
    invitations_schedule,
    reminders_send,
)
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
