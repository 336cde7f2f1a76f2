"""Brute-force protection on the sign-in page (django-axes)."""

import logging
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shop.models import User
from shop.roles import Role
from tests.factories import TEST_PASSWORD, make_user


def test_the_right_password_signs_in(owner: User) -> None:
    response = Client().post(reverse("login"), {"username": "owner", "password": TEST_PASSWORD})

    assert response.status_code == 302


def test_after_the_failure_limit_the_right_password_is_refused_with_the_locked_out_page(owner: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "owner", "password": "wrong"})

    response = client.post(reverse("login"), {"username": "owner", "password": TEST_PASSWORD})

    assert response.status_code == 429
    assert 'data-testid="locked-out"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_one_failure_short_of_the_limit_still_lets_the_right_password_in(owner: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "owner", "password": "wrong"})

    response = client.post(reverse("login"), {"username": "owner", "password": TEST_PASSWORD})

    assert response.status_code == 302


def test_a_lockout_of_one_account_leaves_other_accounts_open(owner: User, manager: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "owner", "password": "wrong"})

    response = client.post(reverse("login"), {"username": "manager", "password": TEST_PASSWORD})

    assert response.status_code == 302


def lock_out(username: str, address: str = "127.0.0.1") -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR=address)


def sign_in_status(username: str, address: str = "127.0.0.1") -> int:
    response = Client().post(reverse("login"), {"username": username, "password": TEST_PASSWORD}, REMOTE_ADDR=address)
    return response.status_code


def test_wrong_passwords_during_the_lockout_do_not_extend_it(owner: User) -> None:
    """One bad try every few minutes must not keep the owner out for ever: the cool-off runs from the failure that
    locked the pair, whatever is tried during it."""
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        lock_out("owner")
        for _ in range(5):
            clock.shift(cool_off / 6)
            response = Client().post(reverse("login"), {"username": "owner", "password": "wrong"})
            assert response.status_code == 429
        assert sign_in_status("owner") == 429

        clock.move_to(start + cool_off + timedelta(seconds=1))

        assert sign_in_status("owner") == 302


def test_the_lockout_holds_for_the_whole_cool_off(owner: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        lock_out("owner")
        clock.move_to(start + timedelta(hours=settings.AXES_COOLOFF_TIME) - timedelta(seconds=5))

        assert sign_in_status("owner") == 429


def test_a_lockout_holds_one_address_and_the_same_account_signs_in_from_another(owner: User) -> None:
    lock_out("owner", address="203.0.113.66")

    assert sign_in_status("owner", address="203.0.113.66") == 429
    assert sign_in_status("owner", address="198.51.100.20") == 302


def test_the_users_page_shows_a_locked_account(owner: User, manager: User) -> None:
    lock_out("manager", address="203.0.113.66")
    client = Client()
    client.force_login(owner)

    page = client.get(reverse("shop:users")).content.decode()

    locked_cell = page.split('data-testid="lock-manager"')[1].split("</td>")[0]
    owner_cell = page.split('data-testid="lock-owner"')[1].split("</td>")[0]
    assert reverse("shop:user_unlock", args=[manager.pk]) in locked_cell
    assert "shop:user_unlock" not in owner_cell and "unlock" not in owner_cell


def test_the_owner_unlocks_an_account_and_the_unlock_is_logged(
    owner: User, manager: User, caplog: pytest.LogCaptureFixture
) -> None:
    lock_out("manager")
    assert sign_in_status("manager") == 429
    client = Client()
    client.force_login(owner)

    with caplog.at_level(logging.WARNING, logger="retain.security"):
        response = client.post(reverse("shop:user_unlock", args=[manager.pk]))

    assert response.status_code == 302
    assert sign_in_status("manager") == 302
    assert any("unlocked" in record.getMessage() and "manager" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR])
def test_only_the_owner_may_unlock(role: str, owner: User) -> None:
    lock_out("owner")
    client = Client()
    client.force_login(make_user(role))

    assert client.post(reverse("shop:user_unlock", args=[owner.pk])).status_code == 403
    assert AccessAttempt.objects.filter(username="owner").exists()
    assert sign_in_status("owner") == 429
