"""Suite-wide fixtures: staff of each role, signed-in clients, API clients with tokens."""

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from shop.models import User
from shop.roles import Role
from shop.services import IssuedToken, token_issue
from tests.factories import make_user


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """The shop settings are cached per process; a rolled-back test must not leave its copy behind."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(db: None) -> User:
    return make_user(Role.OWNER, username="owner")


@pytest.fixture
def manager(db: None) -> User:
    return make_user(Role.MANAGER, username="manager")


@pytest.fixture
def operator(db: None) -> User:
    return make_user(Role.OPERATOR, username="operator", extension="101")


@pytest.fixture
def client_for(db: None) -> Callable[[str | None], Client]:
    """A signed-in page client for a role name (``None``: anonymous)."""

    def build(role: str | None) -> Client:
        client = Client()
        if role is not None:
            client.force_login(make_user(role if role != "norole" else None))
        return client

    return build


@pytest.fixture
def api_client_for(db: None) -> Callable[..., APIClient]:
    """An API client with a fresh integration token of the given scopes."""

    def build(*scopes: str) -> APIClient:
        issued: IssuedToken = token_issue(name="test", scopes=list(scopes), created_by=None)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
        return client

    return build
