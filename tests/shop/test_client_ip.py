"""Whose address a sign-in lockout counts against, with and without a reverse proxy in front."""

import pytest
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django.fixtures import Settings

from shop.client_ip import client_ip
from shop.models import User
from tests.factories import TEST_PASSWORD

PROXY = "10.0.0.2"


def request_from(remote: str, forwarded: str | None = None) -> HttpRequest:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_without_a_proxy_the_connecting_address_counts_and_forwarded_for_is_ignored() -> None:
    assert client_ip(request_from("198.51.100.7", "203.0.113.9")) == "198.51.100.7"


def test_behind_one_proxy_the_address_it_appended_counts(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request_from(PROXY, "203.0.113.9")) == "203.0.113.9"


def test_behind_one_proxy_a_forged_forwarded_for_entry_is_ignored(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request_from(PROXY, "1.2.3.4, 203.0.113.9")) == "203.0.113.9"


def test_behind_two_proxies_the_address_the_outer_one_saw_counts(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(request_from(PROXY, "1.2.3.4, 203.0.113.9, 192.0.2.1")) == "203.0.113.9"


def test_a_request_that_bypassed_the_proxies_counts_by_its_connecting_address(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(request_from("198.51.100.7", "203.0.113.9")) == "198.51.100.7"


def fail_to_sign_in(client: Client, forwarded: str) -> None:
    client.post(
        reverse("login"), {"username": "owner", "password": "wrong"}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded
    )


def test_behind_a_proxy_an_attackers_lockout_leaves_the_owner_signing_in_from_elsewhere(
    settings: Settings, owner: User
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        fail_to_sign_in(Client(), f"10.9.9.{attempt}, 203.0.113.66")

    response = Client().post(
        reverse("login"),
        {"username": "owner", "password": TEST_PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )

    assert response.status_code == 302


@pytest.mark.parametrize("forged", ["", "10.9.9.1, "])
def test_behind_a_proxy_forging_forwarded_for_does_not_escape_the_lockout(
    settings: Settings, owner: User, forged: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        fail_to_sign_in(Client(), f"10.9.9.{attempt}, 203.0.113.66")

    response = Client().post(
        reverse("login"),
        {"username": "owner", "password": TEST_PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{forged}203.0.113.66",
    )

    assert response.status_code == 429
