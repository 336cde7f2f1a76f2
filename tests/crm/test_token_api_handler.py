"""The WSGI handler gunicorn runs (crm.handlers): a token API call takes the short middleware chain and answers as
the full chain does; everything else still takes the full chain."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from crm.handlers import RetainWSGIHandler, carries_token
from shop.roles import Capability
from shop.services import token_issue
from tests.factories import TEST_PASSWORD, CustomerFactory, CustomerPhoneFactory, make_owner

pytestmark = pytest.mark.django_db
LOOKUP = reverse("api:caller_lookup")


@contextmanager
def connections_left_alone() -> Iterator[None]:
    """As Django's test client does: the test's transaction holds the connection, so a request must not close it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def served(path: str, query: dict[str, str] | None = None, **headers: Any) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET through the handler gunicorn runs."""
    environ = RequestFactory().get(path, query or {}, **headers).environ
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    with connections_left_alone():
        response = RetainWSGIHandler()(environ, start_response)
        body = b"".join(response)
        response.close()
    return answer["status"], answer["headers"], body


def lookup_token() -> str:
    return token_issue(name="АТС", scopes=[Capability.LOOKUP], created_by=None, lookup_rate_per_second=100).key


def test_a_token_lookup_through_the_short_chain_answers_as_through_the_full_chain():
    customer = CustomerFactory.create(name="Мария Соколова")
    CustomerPhoneFactory.create(customer=customer, number="+79991234567")
    token = lookup_token()
    full = APIClient()
    full.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    expected = full.get(LOOKUP, {"phone": "89991234567"})

    status, headers, body = served(LOOKUP, {"phone": "89991234567"}, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert status == 200
    answer, reference = json.loads(body), expected.json()
    # The signed link carries its own time stamp; everything else is the same answer.
    assert answer.pop("card_url").split("?")[0] == reference.pop("card_url").split("?")[0]
    assert answer == reference
    for name in (
        "Content-Type",
        "Content-Length",
        "Content-Language",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
    ):
        assert headers[name] == expected[name], name
    assert "Content-Security-Policy" in headers
    assert "Set-Cookie" not in headers


def test_a_nul_in_a_token_call_is_still_refused():
    status, _headers, _body = served(
        LOOKUP, {"phone": "8999\x001234567"}, HTTP_AUTHORIZATION=f"Bearer {lookup_token()}"
    )

    assert status == 400


def test_a_signed_in_owner_who_owes_the_code_is_still_stopped_on_the_api():
    owner = make_owner()
    browser = Client()
    assert browser.post(reverse("login"), {"username": owner.username, "password": TEST_PASSWORD}).status_code == 302

    status, _headers, body = served(
        LOOKUP, {"phone": "89991234567"}, HTTP_COOKIE=f"sessionid={browser.session.session_key}"
    )

    assert status == 403
    assert b"Confirm your sign-in with a code first." in body


@pytest.mark.parametrize(
    ("path", "authorization", "expected"),
    [
        ("/api/v1/callers/lookup", "Bearer rt_abc_def", True),
        ("/api/v1/orders", "token rt_abc_def", True),
        ("/api/v1/callers/lookup", "Basic dXNlcjpwYXNz", False),
        ("/api/v1/callers/lookup", "", False),
        ("/customers/", "Bearer rt_abc_def", False),
        ("/api/docs/", "Bearer rt_abc_def", False),
    ],
)
def test_only_an_api_call_with_a_token_scheme_takes_the_short_chain(path: str, authorization: str, expected: bool):
    assert carries_token({"PATH_INFO": path, "HTTP_AUTHORIZATION": authorization}) is expected
