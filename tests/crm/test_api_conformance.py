"""Schemathesis over every operation of the published API, with each kind of caller: integration tokens of every
scope and none, every staff role, and no credentials. 0 server errors and 0 answers the schema does not describe
(status code, content type, headers, body). In-process through the WSGI app, a few examples per operation, so it
stays in CI."""

import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shop.roles import TOKEN_SCOPES, Role
from shop.services import token_issue
from tests.factories import make_user

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 5
CALLERS = [
    "token:all",
    "token:lookup",
    "token:import",
    "token:quote",
    "token:none",
    f"staff:{Role.OWNER}",
    f"staff:{Role.MANAGER}",
    f"staff:{Role.OPERATOR}",
    "anonymous",
]


def _published_schema() -> dict[str, Any]:
    return dict(SchemaGenerator().get_schema(request=None, public=True))


def _headers_for(caller: str) -> dict[str, str]:
    kind, _colon, which = caller.partition(":")
    if kind == "token":
        scopes = {"all": sorted(TOKEN_SCOPES), "none": []}.get(which, [which])
        issued = token_issue(name=caller, scopes=scopes, created_by=None)
        return {"Authorization": f"Bearer {issued.key}"}
    if kind == "staff":
        client = Client()
        client.force_login(make_user(which))
        return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    return {}


SERVER_TRACEBACKS: list[str] = []


def _keep_traceback(sender: Any, **kwargs: Any) -> None:
    """The server's own traceback of a 500, for the failure message (the answer is only the 500 page)."""
    SERVER_TRACEBACKS.append(traceback.format_exc())


def _failures_of(operation: Any, headers: dict[str, str], app: WSGIHandler) -> list[str]:
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers, app=app)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs={"app": app})
        except FailureGroup as error:
            server = SERVER_TRACEBACKS[-1][-1500:] if response.status_code >= 500 and SERVER_TRACEBACKS else ""
            failures.append(f"{operation.label} → {response.status_code}: {str(error).strip()[:600]}\n{server}")

    run()
    return failures


@pytest.fixture
def app() -> Iterator[WSGIHandler]:
    """The project's WSGI application, called in-process inside the test's transaction. Django closes "old"
    connections when a request starts and ends; as in its own test client, that is switched off here, or the first
    request would close the connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(_keep_traceback)
    yield WSGIHandler()
    got_request_exception.disconnect(_keep_traceback)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_answers_as_published_for_every_caller(caller: str, app: WSGIHandler, settings: Any) -> None:
    # Switched on, as in a shop that uses them (switched off they answer 503, which the schema says too).
    settings.TELEPHONY_WEBHOOK_SECRET = "conformance-telephony-secret"
    settings.ZADARMA_API_SECRET = "conformance-zadarma-secret"
    schema = schemathesis.openapi.from_dict(_published_schema())
    headers = _headers_for(caller)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operations += 1
        if isinstance(result, Ok):
            failures.extend(_failures_of(result.ok(), headers, app))
        else:
            failures.append(f"an operation the schema cannot describe: {result.err()}")

    assert operations >= 10
    assert failures == [], "\n\n".join(dict.fromkeys(failures))
