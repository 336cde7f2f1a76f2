"""Exactly-once sending with a real Celery worker that is killed in the middle of a batch."""

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from customers.models import Customer
from feedback.models import Invitation, InvitationState
from feedback.services import invitations_schedule
from messaging.models import Message
from messaging.services import CLAIM_TIMEOUT, messages_mark_stale_claims
from messaging.tasks import messages_send_batch_task as invitations_send_batch_task
from orders.models import Order
from tests.feedback.helpers import deliver

# Enough that the worker dies with some rows recorded, one in doubt, some untouched.
COUNT = 150
# The file backend sends one message per call: all a dead worker may leave in doubt.
IN_FLIGHT = 1


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _received(sink: Path) -> Counter[int]:
    if not sink.exists():
        return Counter()
    # Each line starts with the message's client id, "retain-message-<id>".
    return Counter(int(line.split("\t", 1)[0].rsplit("-", 1)[1]) for line in sink.read_text().splitlines() if line)


def _due_surveys() -> None:
    for number in range(COUNT):
        deliver(f"A-{number}", phone=f"+7999000{number:04d}", email="")
    Customer.objects.update(sms_consent=True)
    invitations_schedule(order_ids=list(Order.objects.values_list("id", flat=True)))
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    assert Invitation.objects.filter(state=InvitationState.DUE).count() == COUNT


def _kill_mid_batch(celery_worker_process: Any, env: dict[str, str], sink: Path) -> None:
    slow = celery_worker_process(env={**env, "MESSAGING_TEST_SEND_DELAY": "0.05"})
    invitations_send_batch_task.apply_async(args=(1000,), queue=slow.queue)
    _wait_for(lambda: sum(_received(sink).values()) >= 55, 60, "the first messages")
    slow.kill()
    halfway = _received(sink)
    assert 50 < sum(halfway.values()) < COUNT - 50, "the worker was meant to die mid-batch"
    assert Invitation.objects.filter(state=InvitationState.SENT).exists(), "outcomes are recorded as it goes"


def _finish(celery_worker_process: Any, env: dict[str, str]) -> None:
    fresh = celery_worker_process(env=env)
    invitations_send_batch_task.apply_async(args=(1000,), queue=fresh.queue)
    _wait_for(
        lambda: not Invitation.objects.filter(state__in=[InvitationState.DUE, InvitationState.SENDING]).exists(),
        60,
        "the batch to finish",
    )


@pytest.mark.worker
def test_a_worker_killed_mid_batch_and_restarted_sends_each_invitation_at_most_once(
    transactional_db: None, celery_worker_process: Any, tmp_path: Path
) -> None:
    _due_surveys()
    sink = tmp_path / "sms.log"
    env = {"MESSAGING_SMS_FILE": str(sink)}
    _kill_mid_batch(celery_worker_process, env, sink)

    # The sweeper, after the claim timeout, settles the dead worker's claim: the one message whose attempt was
    # recorded may have left and becomes "unknown"; the rows it never reached go back to the outbox.
    unknown_count = messages_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1))
    assert unknown_count <= IN_FLIGHT
    assert Invitation.objects.filter(state=InvitationState.DUE).exists()
    _finish(celery_worker_process, env)

    received = _received(sink)
    assert max(received.values()) == 1, f"sent twice: {[pk for pk, n in received.items() if n > 1]}"
    states = dict(Invitation.objects.values_list("message_id", "state"))
    sent = {pk for pk, state in states.items() if state == InvitationState.SENT}
    unknown = {pk for pk, state in states.items() if state == InvitationState.UNKNOWN}
    assert sent | unknown == set(states)
    assert len(unknown) == unknown_count
    assert sent <= set(received)
    assert set(received) <= sent | unknown
    # Every row the dead worker never reached was sent by the fresh one.
    assert len(sent) >= COUNT - IN_FLIGHT


@pytest.mark.worker
def test_with_a_provider_that_deduplicates_a_killed_workers_message_in_doubt_is_sent_again_with_its_id(
    transactional_db: None, celery_worker_process: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _due_surveys()
    sink = tmp_path / "sms.log"
    env = {"MESSAGING_SMS_FILE": str(sink), "MESSAGING_SMS_FILE_DEDUPLICATES": "1"}
    monkeypatch.setenv("MESSAGING_SMS_FILE_DEDUPLICATES", "1")
    _kill_mid_batch(celery_worker_process, env, sink)

    assert messages_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1)) == 0
    _finish(celery_worker_process, env)

    received = _received(sink)
    assert max(received.values()) == 1
    assert set(Invitation.objects.values_list("state", flat=True)) == {InvitationState.SENT}
    assert len(received) == COUNT
