"""Campaign messages with a real Celery worker: killed in the middle of a batch, each message leaves at most once;
a batch request lost by the broker is made good by the sweep."""

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from loyalty.campaigns.models import CampaignRecipient, RecipientStatus
from loyalty.campaigns.runner import campaign_run
from messaging.models import Message, MessageState
from messaging.services import CLAIM_TIMEOUT, messages_mark_stale_claims
from messaging.tasks import messages_send_batch_task, messages_sweep_task
from tests.feedback.test_worker import _received, _wait_for
from tests.loyalty.campaigns.helpers import campaign, person

COUNT = 150


def _queued_campaign() -> None:
    for _ in range(COUNT):
        person(risk=0.7, email=False, sms=True)
    campaign_run(campaign_id=campaign(send_channel="sms").pk)
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    assert CampaignRecipient.objects.filter(status=RecipientStatus.QUEUED).count() == COUNT


@pytest.mark.worker
def test_a_worker_killed_mid_batch_sends_each_campaign_message_at_most_once(
    transactional_db: None, celery_worker_process: Any, tmp_path: Path
) -> None:
    _queued_campaign()
    sink = tmp_path / "sms.log"
    env = {"MESSAGING_SMS_FILE": str(sink)}
    slow = celery_worker_process(env={**env, "MESSAGING_TEST_SEND_DELAY": "0.05"})
    messages_send_batch_task.apply_async(args=(1000,), queue=slow.queue)
    _wait_for(lambda: sum(_received(sink).values()) >= 55, 60, "the first messages")
    slow.kill()
    assert 50 < sum(_received(sink).values()) < COUNT - 50, "the worker was meant to die mid-batch"

    unknown = messages_mark_stale_claims(now=timezone.now() + CLAIM_TIMEOUT + timedelta(seconds=1))
    assert unknown <= 1
    fresh = celery_worker_process(env=env)
    messages_send_batch_task.apply_async(args=(1000,), queue=fresh.queue)
    _wait_for(
        lambda: not Message.objects.filter(state__in=[MessageState.DUE, MessageState.SENDING]).exists(),
        60,
        "the batch to finish",
    )
    received: Counter[int] = _received(sink)
    assert max(received.values()) == 1, "a campaign message left twice"
    statuses = dict(CampaignRecipient.objects.values_list("message_id", "status"))
    sent = {pk for pk, status in statuses.items() if status == RecipientStatus.SENT}
    in_doubt = {pk for pk, status in statuses.items() if status == RecipientStatus.UNKNOWN}
    assert sent | in_doubt == set(statuses) and len(in_doubt) == unknown
    assert sent <= set(received) <= sent | in_doubt


@pytest.mark.worker
def test_a_broker_restart_loses_no_due_campaign_message(
    transactional_db: None, celery_worker_process: Any, tmp_path: Path
) -> None:
    for _ in range(5):
        person(risk=0.7, email=False, sms=True)
    campaign_run(campaign_id=campaign(send_channel="sms").pk)
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    sink = tmp_path / "sms.log"
    worker = celery_worker_process(env={"MESSAGING_SMS_FILE": str(sink)})
    lost_queue = f"{worker.queue}-lost"
    messages_send_batch_task.apply_async(queue=lost_queue)
    with redis.Redis.from_url(settings.CELERY_BROKER_URL) as client:
        assert client.delete(lost_queue) == 1  # the queue is gone, as after a restart without persistence
    messages_sweep_task.apply_async(queue=worker.queue)
    _wait_for(
        lambda: not CampaignRecipient.objects.exclude(status=RecipientStatus.SENT).exists(), 60, "the outbox to drain"
    )
    assert sorted(_received(sink).values()) == [1] * 5
