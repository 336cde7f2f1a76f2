"""Brute-force protection on the sign-in page (django-axes)."""

from django.conf import settings
from django.test import Client
from django.urls import reverse

from shop.models import User
from tests.factories import TEST_PASSWORD


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
