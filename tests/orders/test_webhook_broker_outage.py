"""A webhook during a broker outage: the delivery and its order are committed to PostgreSQL and answered 200 at
once; the follow-up work (rescoring the customer) waits in PostgreSQL as a pending order event, and once the broker
is back the sweep, run by a real worker, sends it. Real redis-server, stopped and restarted; real Celery worker."""

import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client

from crm.celery import app as celery_app
from orders.models import Order, OrderEvent, WebhookEvent, WebhookKind
from orders.tasks import order_events_sweep_task
from orders.webhooks.services import webhook_source_create
from tests.conftest import RedisServer, WorkerProcess
from tests.orders.test_webhooks import order_payload, post_generic


def _point_celery_at(url: str) -> None:
    """This process sends its tasks to ``url`` from now on. The app's pools are dropped, not closed: kombu keeps
    one pool per broker address for the whole process, and the suite's own broker must find its pool open again."""
    celery_app.conf["broker_url"] = url
    celery_app._pool = None  # type: ignore[attr-defined]  # no public way to rebuild the pool for a new address
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def broker(private_redis: RedisServer, celery_worker_process: Callable[..., WorkerProcess]) -> Iterator[RedisServer]:
    """The private redis-server as this process's broker; tasks are sent, not run eagerly."""
    previous = celery_app.conf.broker_url
    _point_celery_at(private_redis.url)
    yield private_redis
    _point_celery_at(previous)


def _wait_for(condition: Callable[[], bool], timeout: float, what: str, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{worker.log()[-3000:]}")
        time.sleep(0.1)


@pytest.mark.worker
def test_a_webhook_during_a_broker_outage_is_answered_200_and_its_work_is_sent_when_the_broker_returns(
    transactional_db: None, broker: RedisServer, celery_worker_process: Callable[..., WorkerProcess]
) -> None:
    source = webhook_source_create(name="Сайт", slug="site", kind=WebhookKind.GENERIC)
    broker.stop()

    started = time.monotonic()
    response = post_generic(Client(), source, "evt-1", order_payload(status="delivered"))
    elapsed = time.monotonic() - started

    assert response.status_code == 200, response.content
    assert elapsed < 5, f"answered in {elapsed:.1f} s"
    order = Order.objects.get()
    assert WebhookEvent.objects.filter(event_id="evt-1").exists()
    event = OrderEvent.objects.get()
    assert event.dispatched_at is None and event.payload["customer_ids"] == [order.customer_id]
    # The platform retries, as it would after any doubt: the same answer, nothing new.
    assert post_generic(Client(), source, "evt-1", order_payload(status="delivered")).status_code == 200
    assert OrderEvent.objects.count() == 1

    broker.restart()
    # Redis came back empty: the dispatch message sent at commit never reached it. A worker consumes the default
    # queue, where the apps' tasks go; the sweep finds the event once it has waited longer than its threshold.
    worker = celery_worker_process(queue="celery", env={"REDIS_URL": broker.url})
    OrderEvent.objects.update(created_at=F("created_at") - timedelta(minutes=5))
    order_events_sweep_task.apply_async(queue="celery")

    _wait_for(lambda: OrderEvent.objects.get().dispatched_at is not None, 60, "the sweep to dispatch", worker)
    # The receivers' work reached the worker through the broker that was down when the order arrived: the
    # customer's rescore, the delivered order's bonus accrual (one order looked at) and its survey scheduling.
    for done in (
        r"scoring\.score_customers\[.*\] succeeded",
        r"loyalty\.accrue\[.*\] succeeded in .*: 1$",
        r"feedback\.schedule\[.*\] succeeded",
    ):
        pattern = re.compile(done, re.MULTILINE)
        _wait_for(lambda pattern=pattern: pattern.search(worker.log()) is not None, 60, done, worker)  # type: ignore[misc]
