"""Queueing a Celery task from a service: after commit, by the task's name, and never failing the caller.

A service queues by name because the app's ``tasks.py`` imports that service to run it: importing the tasks module
back would be an import circle (hidden inside functions, but a circle still). The queue waits for the commit, so a
worker never looks for a row that is not there yet or was rolled back. A broker that refuses the message is logged,
not raised: PostgreSQL holds the work, and the app's periodic sweep queues it again (DESIGN, reliability).
"""

import logging
import threading
import time
from typing import Any

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


# A web process registers the apps' tasks modules only when something imports them (a worker at start); requests on
# several threads once discovered them at the same time, and those that looked while another was importing found the
# task missing and failed after their commit.
_DISCOVERY = threading.Lock()


def _task(name: str) -> Any:
    if name not in current_app.tasks:
        with _DISCOVERY:
            if name not in current_app.tasks:
                current_app.autodiscover_tasks(force=True)
    return current_app.tasks[name]


class _BrokerPause:
    """After a broker refused a message, this process sends it nothing for :data:`BROKER_PAUSE` seconds: each send
    to a broker that is down costs about a second of connection timeout and retries after the commit, which every
    request of an outage would otherwise pay. The work waits in PostgreSQL for its sweep, as a refused message's
    does. Kept per broker address, so that pointing the app at another broker starts afresh."""

    def __init__(self) -> None:
        self.until: dict[str, float] = {}

    def active(self, broker: str) -> bool:
        return time.monotonic() < self.until.get(broker, 0.0)

    def begin(self, broker: str) -> None:
        self.until[broker] = time.monotonic() + BROKER_PAUSE


BROKER_PAUSE = 15.0
_pause = _BrokerPause()


def task_send(name: str, *args: Any) -> bool:
    """Send the task registered as ``name`` now; returns whether the broker took it (``False`` at once while the
    broker is paused after a refusal)."""
    task = _task(name)
    broker = str(current_app.conf.broker_url)
    if _pause.active(broker):
        return False
    try:
        task.delay(*args)
    except OperationalError:
        _pause.begin(broker)
        logger.warning(
            "The broker did not take %s%r; the sweep will queue it again, and nothing is sent for %.0f s.",
            name,
            args,
            BROKER_PAUSE,
            exc_info=True,
        )
        return False
    return True


def task_queue_on_commit(name: str, *args: Any) -> None:
    """Send the task registered as ``name`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_send(name, *args))
