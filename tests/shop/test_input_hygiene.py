"""Generic input hygiene: a NUL byte anywhere and JSON nested too deep answer 400 with a reason, never 500, and
redirects after a form go only to paths on this site."""

import re
from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from customers.models import Customer
from shop.input_hygiene import MAX_JSON_DEPTH, JsonInputError, json_loads_checked
from shop.roles import Capability, Role

pytestmark = pytest.mark.django_db


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("query", ["q=%00", "q=Ivan%00", "sort=name%00"])
def test_the_customer_list_answers_a_nul_in_the_query_with_400(client_for: Callable[..., Client], query: str) -> None:
    response = client_for(Role.MANAGER).get(f"/customers/?{query}")

    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_the_caller_lookup_answers_a_nul_with_a_json_400(client_for: Callable[..., Client]) -> None:
    response = client_for(Role.MANAGER).get("/api/v1/callers/lookup?phone=%2B7999%00")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_form_post_with_a_nul_is_refused_and_stores_nothing(client_for: Callable[..., Client]) -> None:
    before = Customer.objects.count()

    response = client_for(Role.MANAGER).post("/call/customers/new/", {"name": "Ivan\x00", "phone": "+79991112233"})

    assert response.status_code == 400
    assert Customer.objects.count() == before


@pytest.mark.parametrize("body", ['{"name": "Ivan\\u0000", "phones": ["+79991112233"]}', _nested(MAX_JSON_DEPTH + 1)])
def test_a_json_body_with_a_nul_or_nested_too_deep_gets_400_naming_the_problem(
    api_client_for: Callable[..., APIClient], client_for: Callable[..., Client], body: str
) -> None:
    client = client_for(Role.MANAGER)
    before = Customer.objects.count()

    response = client.post("/api/v1/customers", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "NUL" in response.json()["error"]["message"] or "nested" in response.json()["error"]["message"]
    assert Customer.objects.count() == before


def test_json_nested_thousands_deep_is_refused_without_a_recursion_error(
    api_client_for: Callable[..., APIClient],
) -> None:
    client = api_client_for(Capability.LOOKUP, Capability.IMPORT)

    response = client.post("/api/v1/orders", "[" * 100_000 + "]" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert "nested" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"orders": [{"a": "x"}, {"b": ["y", "z\\u0000"]}]}',
        '{"a": "\\u0000"}'.encode("utf-16"),
        '{"a": {"b": "\\u0000"}}'.encode("utf-32"),
    ],
)
def test_a_nul_is_found_deep_in_a_body_written_as_an_escape_or_in_utf16_and_utf32(body: bytes) -> None:
    with pytest.raises(JsonInputError, match="NUL"):
        json_loads_checked(body)


def test_json_at_the_depth_limit_is_read() -> None:
    assert json_loads_checked(_nested(MAX_JSON_DEPTH - 1)) is not None
    with pytest.raises(JsonInputError):
        json_loads_checked('{"a": NaN}')


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_the_call_log_form_never_redirects_off_the_site(client_for: Callable[..., Client], target: str) -> None:
    response = client_for(Role.OPERATOR).post("/call/log/", {"next": target, "outcome": "nonsense"})

    assert response.status_code == 302
    assert response["Location"] == "/call/"


def test_the_call_log_form_goes_back_to_a_path_on_the_site(client_for: Callable[..., Client]) -> None:
    response = client_for(Role.OPERATOR).post("/call/log/", {"next": "/call/?phone=1", "outcome": "nonsense"})

    assert response["Location"] == "/call/?phone=1"


def test_every_page_sends_a_content_security_policy_whose_nonce_its_inline_script_carries(
    client_for: Callable[..., Client],
) -> None:
    response = client_for(Role.OWNER).get("/feedback/reports/")

    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and f'<script nonce="{nonce.group(1)}">' in response.content.decode()
    assert "script-src 'self' 'nonce-" in policy and "'unsafe-inline'" not in policy.split("style-src-attr")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert ' onclick="' not in response.content.decode() and ' onchange="' not in response.content.decode()


def test_each_response_gets_its_own_nonce(client_for: Callable[..., Client]) -> None:
    client = client_for(Role.OWNER)

    assert client.get("/").get("Content-Security-Policy") != client.get("/").get("Content-Security-Policy")
