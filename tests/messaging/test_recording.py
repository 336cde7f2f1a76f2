"""Recording a batch as it goes: one statement per message for the outbox (and a survey's invitation), one round trip
where no kind settles in Python, and what a database restart leaves."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from customers.models import Customer
from feedback.models import Invitation, InvitationState
from feedback.services import invitations_schedule
from messaging.models import Channel, Message, MessageState, Purpose
from messaging.reasons import MessageReason
from messaging.services import CLAIM_TIMEOUT, messages_claim, messages_mark_stale_claims, messages_send
from orders.models import Order
from tests.factories import CustomerFactory, MessageFactory
from tests.feedback.helpers import deliver

pytestmark = pytest.mark.django_db

LATER = CLAIM_TIMEOUT + timedelta(seconds=1)


def _statements_to_send(count: int, *, purpose: str = Purpose.SERVICE) -> int:
    """The statements sending a claimed batch of ``count`` emails takes (savepoints, which stand for the test's
    transaction, left out)."""
    for _number in range(count):
        MessageFactory.create(purpose=purpose, customer=CustomerFactory.create(email_consent=True))
    batch = messages_claim(limit=1000)
    with CaptureQueriesContext(connection) as queries:
        messages_send(batch)
    Message.objects.all().delete()
    return sum(1 for query in queries.captured_queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE")))


@pytest.mark.parametrize("purpose", [Purpose.SERVICE, Purpose.MARKETING])
def test_each_email_costs_the_outbox_one_statement_with_its_attempt_and_outcome(purpose: str) -> None:
    _statements_to_send(1)  # the session's first batch prepares the statement
    assert _statements_to_send(6, purpose=purpose) - _statements_to_send(3, purpose=purpose) == 3


def test_a_survey_email_costs_one_statement_that_also_settles_its_invitation() -> None:
    def statements(count: int) -> int:
        for number in range(count):
            deliver(
                f"S-{count}-{number}", email=f"s{count}-{number}@example.com", phone=f"+7999{count:03d}{number:04d}"
            )
        Customer.objects.update(email_consent=True)
        invitations_schedule(order_ids=list(Order.objects.values_list("id", flat=True)))
        Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
        batch = messages_claim(limit=1000)
        with CaptureQueriesContext(connection) as queries:
            messages_send(batch)
        assert set(Invitation.objects.values_list("state", flat=True)) == {InvitationState.SENT}
        Invitation.objects.all().delete()
        Message.objects.all().delete()
        Order.objects.all().delete()
        return sum(1 for query in queries.captured_queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE")))

    statements(1)  # the session's first batch prepares the statement
    assert statements(6) - statements(3) == 3


@pytest.mark.django_db(transaction=True)
def test_an_emails_attempt_commits_on_its_own_with_no_transaction_around_it() -> None:
    for _number in range(3):
        MessageFactory.create(customer=CustomerFactory.create(email_consent=True))
    batch = messages_claim(limit=10)
    recording_in_a_transaction: list[bool] = []

    def watch(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if "EXECUTE messaging_record" in sql:
            recording_in_a_transaction.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        messages_send(batch)
    # Each email's attempt (with the previous one's outcome) is one statement committed alone: no BEGIN and COMMIT
    # round trips. The batch's last outcomes are written in a transaction, as before.
    assert recording_in_a_transaction == [False, False, False, True]
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.SENT}


def _claimed_under_an_earlier_server(count: int, **fields: object) -> list[Message]:
    messages = [MessageFactory.create(**fields) for _number in range(count)]
    messages_claim()
    # The database server crashed after the claim and started again: its start time is no longer the claim's.
    Message.objects.update(claimed_on=timezone.now() - timedelta(days=30))
    return messages


def test_a_claim_made_before_the_database_restarted_leaves_every_row_it_held_unknown() -> None:
    _claimed_under_an_earlier_server(3)
    assert messages_mark_stale_claims(now=timezone.now() + LATER) == 3
    # The reason is stored as its code, whatever language the sweep spoke, and read in the reader's.
    assert set(Message.objects.values_list("state", "error")) == {
        (MessageState.UNKNOWN, MessageReason.DATABASE_RESTARTED)
    }
    message = Message.objects.all()[0]
    with translation.override("en"):
        assert message.reason_text == "The database restarted while this was being sent; the message may have left."
    with translation.override("ru"):
        assert message.reason_text == "База данных перезапустилась во время отправки; сообщение могло уйти."


def test_rows_of_a_claim_made_before_the_restart_are_never_sent_again() -> None:
    _claimed_under_an_earlier_server(2)
    messages_mark_stale_claims(now=timezone.now() + LATER)
    batch = messages_claim()
    assert batch == [] and mail.outbox == []


def test_a_claim_made_before_the_restart_goes_again_with_its_id_where_the_provider_deduplicates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(tmp_path / "sms.log"))
    monkeypatch.setenv("MESSAGING_SMS_FILE_DEDUPLICATES", "1")
    _claimed_under_an_earlier_server(2, channel=Channel.SMS, address="+79990000001")
    assert messages_mark_stale_claims(now=timezone.now() + LATER) == 0
    assert set(Message.objects.values_list("state", "claimed_on")) == {(MessageState.DUE, None)}


def test_a_claim_records_the_database_servers_start_time() -> None:
    MessageFactory.create()
    messages_claim()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()")
        started = cursor.fetchone()[0]
    assert Message.objects.get().claimed_on == started
