"""A staff session ends after 30 minutes without a request and 12 hours after signing in, however busy (both
settable); it ends on a password change elsewhere and on deactivation too."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from shop.models import User
from tests.factories import TEST_PASSWORD, make_manager

CUSTOMERS = reverse("customers:list")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_defaults_are_thirty_minutes_idle_and_twelve_hours_in_all() -> None:
    assert (settings.SESSION_IDLE_TIMEOUT, settings.SESSION_ABSOLUTE_AGE) == (30 * 60, 12 * 60 * 60)
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_AGE


def test_a_session_idle_for_longer_than_the_timeout_is_signed_out(db: None) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(make_manager(language="en"))
        clock.shift(timedelta(minutes=29))
        assert client.get(CUSTOMERS).status_code == 200
        clock.shift(timedelta(minutes=29))
        assert client.get(CUSTOMERS).status_code == 200

        clock.shift(timedelta(minutes=30, seconds=5))
        response = client.get(CUSTOMERS, follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_busy_session_still_ends_twelve_hours_after_signing_in(db: None) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(make_manager(language="en"))
        for step in range(12 * 3 - 1):  # a page every 20 minutes for 11 h 40 min
            clock.shift(timedelta(minutes=20))
            assert client.get(CUSTOMERS).status_code == 200, step
        clock.shift(timedelta(minutes=19))
        assert client.get(CUSTOMERS).status_code == 200
        clock.shift(timedelta(minutes=2))
        response = client.get(CUSTOMERS, follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "a session lasts at most 12 hours" in response.content.decode()


def test_both_limits_are_settable(db: None, settings: Settings) -> None:
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    settings.SESSION_ABSOLUTE_AGE = 60 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        idle, busy = signed_in(make_manager()), signed_in(make_manager())
        clock.shift(timedelta(minutes=4))
        assert busy.get(CUSTOMERS).status_code == 200
        clock.shift(timedelta(minutes=2))
        assert idle.get(CUSTOMERS).status_code == 302
        for _ in range(14):
            assert busy.get(CUSTOMERS).status_code == 200
            clock.shift(timedelta(minutes=4))
        clock.shift(timedelta(minutes=1))
        assert busy.get(CUSTOMERS).status_code == 302


def test_a_session_from_before_the_limits_existed_ends(db: None) -> None:
    client = signed_in(make_manager())
    session = client.session
    del session["retain_signed_in_at"]
    session.save()

    assert client.get(CUSTOMERS).status_code == 302


def test_a_password_change_ends_the_users_other_sessions(db: None) -> None:
    manager = make_manager()
    here, elsewhere = signed_in(manager), signed_in(manager)
    new_password = "Sunflower-Ledger-42"

    response = here.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 302
    assert here.get(CUSTOMERS).status_code == 200
    assert elsewhere.get(CUSTOMERS).status_code == 302


def test_deactivation_ends_the_users_sessions(owner: User) -> None:
    manager = make_manager()
    session = signed_in(manager)
    assert session.get(CUSTOMERS).status_code == 200

    User.objects.filter(pk=manager.pk).update(is_active=False)

    assert session.get(CUSTOMERS).status_code == 302
