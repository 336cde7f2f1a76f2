"""Integration tokens on the API: ``Authorization: Bearer rt_<prefix>_<secret>`` against GET /api/v1/whoami."""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from shop.models import IntegrationToken, User
from shop.roles import Capability
from shop.services import IssuedToken, token_issue, token_revoke

WHOAMI = "/api/v1/whoami"


@pytest.fixture
def issued(db: None) -> IssuedToken:
    return token_issue(name="Website", scopes=[Capability.LOOKUP, Capability.IMPORT], created_by=None)


def bearer(key: str) -> APIClient:
    client = APIClient()
    # Messages follow Accept-Language (the shop default is Russian); these assertions read the English ones.
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def assert_error_shape(body: dict[str, object]) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]


def test_whoami_is_the_path_the_docs_promise() -> None:
    assert reverse("api:whoami") == WHOAMI


def test_a_valid_token_is_accepted_with_its_scopes(issued: IssuedToken) -> None:
    response = bearer(issued.key).get(WHOAMI)

    assert response.status_code == 200
    assert response.json() == {
        "kind": "token",
        "name": "Website",
        "scopes": ["import", "lookup"],
        "shop": "My shop",
        "currency": "RUB",
    }


def test_a_revoked_token_is_refused_with_a_json_error(issued: IssuedToken) -> None:
    token_revoke(token=issued.token)

    response = bearer(issued.key).get(WHOAMI)

    assert response.status_code == 401
    assert_error_shape(response.json())
    assert response.json()["error"]["code"] == "authentication_failed"
    assert "revoked" in response.json()["error"]["message"]


def test_a_token_with_the_wrong_secret_is_refused(issued: IssuedToken) -> None:
    prefix = issued.token.key_prefix
    response = bearer(f"rt_{prefix}_{'x' * 43}").get(WHOAMI)

    assert response.status_code == 401
    assert_error_shape(response.json())


def test_a_token_with_an_unknown_prefix_is_refused(issued: IssuedToken) -> None:
    secret = issued.key.split("_", 2)[2]

    response = bearer(f"rt_000000000000_{secret}").get(WHOAMI)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer not-a-retain-token", "Bearer xx_abc_def", "Token rt_only-two"],
    ids=["no-key", "two-keys", "no-underscores", "wrong-kind", "token-keyword-short"],
)
def test_a_malformed_authorization_header_is_refused(db: None, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(WHOAMI)

    assert response.status_code == 401
    assert_error_shape(response.json())


def test_the_secret_is_stored_only_as_its_sha256(issued: IssuedToken) -> None:
    secret = issued.key.split("_", 2)[2]
    row = IntegrationToken.objects.values().get(pk=issued.token.pk)

    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())


def test_using_a_token_records_when_it_was_last_used(issued: IssuedToken) -> None:
    assert issued.token.last_used_at is None

    bearer(issued.key).get(WHOAMI)

    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None
    assert timezone.now() - issued.token.last_used_at < timedelta(seconds=5)


def test_last_used_is_not_rewritten_within_a_minute(issued: IssuedToken) -> None:
    with time_machine.travel("2026-03-01 10:00:00 +0000", tick=False):
        bearer(issued.key).get(WHOAMI)
    with time_machine.travel("2026-03-01 10:00:59 +0000", tick=False):
        bearer(issued.key).get(WHOAMI)

    issued.token.refresh_from_db()
    assert issued.token.last_used_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_last_used_moves_on_after_a_minute(issued: IssuedToken) -> None:
    with time_machine.travel("2026-03-01 10:00:00 +0000", tick=False):
        bearer(issued.key).get(WHOAMI)
    with time_machine.travel("2026-03-01 10:01:01 +0000", tick=False):
        bearer(issued.key).get(WHOAMI)

    issued.token.refresh_from_db()
    assert issued.token.last_used_at == datetime(2026, 3, 1, 10, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "scopes"),
    [
        ("Owner", sorted(Capability.values)),
        ("Operator", ["lookup", "quote"]),
    ],
)
def test_a_signed_in_staff_member_is_accepted_with_their_role_capabilities(
    client_for: Callable[[str | None], Client], role: str, scopes: list[str]
) -> None:
    response = client_for(role).get(WHOAMI)

    assert response.status_code == 200
    assert response.json()["kind"] == "user"
    assert response.json()["scopes"] == scopes


def test_a_signed_in_account_without_a_role_is_refused(client_for: Callable[[str | None], Client]) -> None:
    response = client_for("norole").get(WHOAMI)

    assert response.status_code == 403
    assert_error_shape(response.json())


def test_a_deactivated_staff_member_is_refused(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)

    response = client.get(WHOAMI)

    assert response.status_code == 401
    assert_error_shape(response.json())


def test_an_anonymous_caller_is_refused_with_a_json_error(db: None) -> None:
    response = APIClient().get(WHOAMI)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert_error_shape(response.json())
    assert response.json()["error"]["code"] == "not_authenticated"
