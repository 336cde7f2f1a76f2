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
from feedback.services import CLAIM_TIMEOUT, MARK_EVERY, invitations_mark_stale_claims, invitations_schedule
from feedback.tasks import invitations_send_batch_task
from orders.models import Order
from tests.feedback.helpers import deliver

# Three times the recording interval, so the worker dies with some rows recorded, some in doubt, some untouched.
COUNT = 3 * MARK_EVERY


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _received(sink: Path) -> Counter[int]:
    if not sink.exists():
        return Counter()
    return Counter(int(line.split("\t", 1)[0].split("-")[0]) for line in sink.read_text().splitlines() if line)


@pytest.mark.worker
def test_a_worker_killed_mid_batch_and_restarted_sends_each_invitation_at_most_once(
    transactional_db: None, celery_worker_process: Any, tmp_path: Path
) -> None:
    for number in range(COUNT):
        deliver(f"A-{number}", phone=f"+7999000{number:04d}", email="")
    Customer.objects.update(sms_consent=True)
    invitations_schedule(order_ids=list(Order.objects.values_list("id", flat=True)))
    Invitation.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    assert Invitation.objects.filter(state=InvitationState.DUE).count() == COUNT

    sink = tmp_path / "sms.log"
    slow = celery_worker_process(env={"FEEDBACK_SMS_FILE": str(sink), "FEEDBACK_TEST_SEND_DELAY": "0.05"})
    invitations_send_batch_task.apply_async(args=(1000,), queue=slow.queue)
    _wait_for(lambda: sum(_received(sink).values()) >= MARK_EVERY + 5, 60, "the first messages")
    slow.kill()
    halfway = _received(sink)
    assert MARK_EVERY < sum(halfway.values()) < COUNT - MARK_EVERY, "the worker was meant to die mid-batch"
    assert Invitation.objects.filter(state=InvitationState.SENT).exists(), "outcomes are recorded as it goes"

    # The sweeper, after the claim timeout, settles the dead worker's claim: the rows that may have left become
    # "unknown", the rows it never reached go back to the outbox.
    unknown_count = invitations_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1))
    assert 1 <= unknown_count <= MARK_EVERY
    assert Invitation.objects.filter(state=InvitationState.DUE).exists()

    fresh = celery_worker_process(env={"FEEDBACK_SMS_FILE": str(sink)})
    invitations_send_batch_task.apply_async(args=(1000,), queue=fresh.queue)
    _wait_for(
        lambda: not Invitation.objects.filter(state__in=[InvitationState.DUE, InvitationState.SENDING]).exists(),
        60,
        "the batch to finish",
    )

    received = _received(sink)
    assert max(received.values()) == 1, f"sent twice: {[pk for pk, n in received.items() if n > 1]}"
    states = dict(Invitation.objects.values_list("id", "state"))
    sent = {pk for pk, state in states.items() if state == InvitationState.SENT}
    unknown = {pk for pk, state in states.items() if state == InvitationState.UNKNOWN}
    assert sent | unknown == set(states)
    assert len(unknown) == unknown_count
    assert sent <= set(received)
    assert set(received) <= sent | unknown
    # Every row the dead worker never reached was sent by the fresh one.
    assert len(sent) >= COUNT - MARK_EVERY
