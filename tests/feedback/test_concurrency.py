"""Two scheduling batches for one customer at the same time: the customer lock keeps the frequency cap."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from feedback.models import Invitation, InvitationSkip, SkipReason
from feedback.services import invitations_schedule
from tests.feedback.helpers import consent, deliver


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def test_a_second_batch_waits_for_the_first_and_then_sees_its_invitation(transactional_db: None) -> None:
    first_order = deliver("A-1")
    consent(first_order)
    second_order = deliver("A-2")
    assert first_order.customer_id == second_order.customer_id
    # Committed deliveries ran the receiver already (eager tasks in tests); start from an empty outbox.
    Invitation.objects.all().delete()
    InvitationSkip.objects.all().delete()
    first_scheduled, release_first = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                invitations_schedule(order_ids=[first_order.pk])
                first_scheduled.set()
                # Hold the customer's lock, uncommitted, until the second batch is seen waiting for it.
                release_first.wait(timeout=60)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            invitations_schedule(order_ids=[second_order.pk])
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_scheduled.wait(timeout=60)
    threads[1].start()
    deadline = time.monotonic() + 60
    while _waiting_on_a_lock() == 0:
        if time.monotonic() > deadline:
            release_first.set()
            pytest.fail("the second batch never waited for the first one's lock")
        time.sleep(0.02)
    release_first.set()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert list(Invitation.objects.values_list("order_id", flat=True)) == [first_order.pk]
    assert InvitationSkip.objects.get(order=second_order).reason == SkipReason.CAPPED
