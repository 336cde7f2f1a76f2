"""The owner's integration-token page: the key is shown once, revocation is immediate, other roles are kept out."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from shop.models import IntegrationToken, User
from shop.services import token_issue

TOKENS = reverse("shop:tokens")


@pytest.fixture
def owner_client(owner: User) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def test_the_owner_creates_a_token_and_sees_its_key_on_that_response(owner_client: Client, owner: User) -> None:
    response = owner_client.post(TOKENS, {"name": "Website", "scopes": ["lookup", "import"]})

    assert response.status_code == 200
    key = response.context["issued"].key
    assert key in response.content.decode()
    token = IntegrationToken.objects.get()
    assert (token.name, token.scopes, token.created_by) == ("Website", ["import", "lookup"], owner)
    assert key.startswith(f"rt_{token.key_prefix}_")


def test_the_key_is_never_shown_again(owner_client: Client) -> None:
    key = owner_client.post(TOKENS, {"name": "Website", "scopes": ["lookup"]}).context["issued"].key

    page = owner_client.get(TOKENS).content.decode()

    secret = key.split("_", 2)[2]
    assert secret not in page
    assert IntegrationToken.objects.get().key_prefix in page


def test_the_page_showing_the_key_is_never_stored_by_a_browser_or_proxy(owner_client: Client) -> None:
    response = owner_client.post(TOKENS, {"name": "Website", "scopes": ["lookup"]})

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_key_shown_to_the_owner_works_on_the_api(owner_client: Client) -> None:
    key = owner_client.post(TOKENS, {"name": "Website", "scopes": ["lookup"]}).context["issued"].key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert api.get("/api/v1/whoami").status_code == 200


def test_the_owner_revokes_a_token_and_the_api_refuses_it_at_once(owner_client: Client) -> None:
    issued = token_issue(name="Old site", scopes=["lookup"], created_by=None)

    response = owner_client.post(reverse("shop:token_revoke", args=[issued.token.pk]))

    assert response.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    assert api.get("/api/v1/whoami").status_code == 401


def test_revoking_twice_keeps_the_first_revocation_time(owner_client: Client) -> None:
    issued = token_issue(name="Old site", scopes=["lookup"], created_by=None)
    owner_client.post(reverse("shop:token_revoke", args=[issued.token.pk]))
    issued.token.refresh_from_db()
    first = issued.token.revoked_at

    owner_client.post(reverse("shop:token_revoke", args=[issued.token.pk]))

    issued.token.refresh_from_db()
    assert issued.token.revoked_at == first


def test_revoking_needs_a_post(owner_client: Client) -> None:
    issued = token_issue(name="Website", scopes=["lookup"], created_by=None)

    assert owner_client.get(reverse("shop:token_revoke", args=[issued.token.pk])).status_code == 405
    issued.token.refresh_from_db()
    assert issued.token.is_active


@pytest.mark.parametrize(
    "data",
    [{"name": "", "scopes": ["lookup"]}, {"name": "Website"}, {"name": "Website", "scopes": ["configure"]}],
    ids=["no-name", "no-scopes", "scope-tokens-may-not-have"],
)
def test_a_token_form_with_bad_input_shows_errors_and_creates_nothing(owner_client: Client, data: dict) -> None:
    response = owner_client.post(TOKENS, data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["issued"] is None
    assert not IntegrationToken.objects.exists()


@pytest.mark.parametrize("role", ["Manager", "Operator"])
def test_other_roles_cannot_create_tokens(client_for: Callable[[str | None], Client], role: str) -> None:
    response = client_for(role).post(TOKENS, {"name": "Sneaky", "scopes": ["lookup"]})

    assert response.status_code == 403
    assert not IntegrationToken.objects.exists()


@pytest.mark.parametrize("role", ["Manager", "Operator"])
def test_other_roles_cannot_revoke_tokens(client_for: Callable[[str | None], Client], role: str) -> None:
    issued = token_issue(name="Website", scopes=["lookup"], created_by=None)

    response = client_for(role).post(reverse("shop:token_revoke", args=[issued.token.pk]))

    assert response.status_code == 403
    issued.token.refresh_from_db()
    assert issued.token.is_active
