"""Queueing a Celery task from a service: after commit, by the task's name, and never failing the caller.

A service queues by name because the app's ``tasks.py`` imports that service to run it: importing the tasks module
back would be an import circle (hidden inside functions, but a circle still). The queue waits for the commit, so a
worker never looks for a row that is not there yet or was rolled back. A broker that refuses the message is logged,
not raised: PostgreSQL holds the work, and the app's periodic sweep queues it again (DESIGN, reliability).
"""

import logging
from typing import Any

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def task_send(name: str, *args: Any) -> bool:
    """Send the task registered as ``name`` now; returns whether the broker took it."""
    if name not in current_app.tasks:
        # A web process registers the apps' tasks modules only when something imports them; a worker at start.
        current_app.autodiscover_tasks(force=True)
    try:
        current_app.tasks[name].delay(*args)
    except OperationalError:
        logger.warning("The broker did not take %s%r; the sweep will queue it again.", name, args, exc_info=True)
        return False
    return True


def task_queue_on_commit(name: str, *args: Any) -> None:
    """Send the task registered as ``name`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_send(name, *args))
