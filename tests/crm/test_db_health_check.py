"""The health check of a kept database connection (crm/postgresql): a connection the server ended while it sat idle
is replaced before a request uses it, one it did not end is kept, and the check sends nothing to find out."""

import select
from collections.abc import Iterator

import psycopg2
import pytest
from django.core.signals import request_started
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_connection() -> None:
    """A connection opened now: one older than CONN_MAX_AGE would be closed by its age, not by the check."""
    connection.close()
    connection.ensure_connection()


@pytest.fixture
def other() -> Iterator[psycopg2.extensions.connection]:
    """A second session on the same database, outside Django."""
    session = psycopg2.connect(**connection.get_connection_params())
    session.autocommit = True
    yield session
    session.close()


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def wait_until_the_server_spoke() -> None:
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    assert poller.poll(5000), "nothing arrived on the idle connection"


def test_a_connection_the_server_ended_while_idle_is_replaced_before_the_next_request_uses_it(other):
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    ended = backend_pid()
    other.cursor().execute("SELECT pg_terminate_backend(%s)", [ended])
    wait_until_the_server_spoke()

    request_started.send(sender=None)  # what gunicorn's next request does first

    assert backend_pid() != ended


def test_a_notification_on_an_idle_connection_does_not_replace_it(other):
    with connection.cursor() as cursor:
        cursor.execute("LISTEN retain_health_check_test")
    kept = backend_pid()
    other.cursor().execute("NOTIFY retain_health_check_test")
    wait_until_the_server_spoke()

    request_started.send(sender=None)

    assert backend_pid() == kept


def test_the_check_of_a_healthy_connection_sends_no_statement(other):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last statement before the check'")
    pid = connection.connection.get_backend_pid()

    request_started.send(sender=None)
    connection.cursor().close()  # the request's first cursor: the health check runs here

    activity = other.cursor()
    activity.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
    assert activity.fetchone()[0] == "SELECT 'the last statement before the check'"
