"""The interface speaks Russian or English, as each staff member chooses."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from shop.models import User
from shop.roles import Role
from tests.factories import make_user


@pytest.fixture
def owner_client(owner: User) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def navigation(client: Client) -> str:
    return client.get(reverse("home")).content.decode()


def test_the_interface_speaks_russian_by_default(owner_client: Client) -> None:
    page = navigation(owner_client)

    assert 'data-nav="home" href="/">Главная</a>' in page
    assert '<html lang="ru">' in page


def test_switching_to_english_changes_the_page_text(owner_client: Client) -> None:
    owner_client.post(reverse("shop:language"), {"language": "en", "next": "/"})

    page = navigation(owner_client)
    assert 'data-nav="home" href="/">Dashboard</a>' in page
    assert '<html lang="en">' in page


def test_switching_back_to_russian_changes_the_page_text_again(owner_client: Client) -> None:
    owner_client.post(reverse("shop:language"), {"language": "en", "next": "/"})

    owner_client.post(reverse("shop:language"), {"language": "ru", "next": "/"})

    assert 'data-nav="home" href="/">Главная</a>' in navigation(owner_client)


def test_the_choice_is_remembered_on_the_account(owner_client: Client, owner: User) -> None:
    owner_client.post(reverse("shop:language"), {"language": "en", "next": "/"})

    assert User.objects.get(pk=owner.pk).language == "en"
    other_browser = Client()
    other_browser.force_login(owner)
    assert "Dashboard</a>" in navigation(other_browser)


def test_the_language_switch_returns_to_the_page_it_was_used_on(owner_client: Client) -> None:
    response = owner_client.post(reverse("shop:language"), {"language": "en", "next": "/shop/users/"})

    assert response.status_code == 302
    assert response["Location"] == "/shop/users/"


def test_the_language_switch_never_redirects_to_another_site(owner_client: Client) -> None:
    response = owner_client.post(reverse("shop:language"), {"language": "en", "next": "https://evil.example/"})

    assert response["Location"] == reverse("home")


def test_an_unknown_language_changes_nothing(owner_client: Client, owner: User) -> None:
    owner_client.post(reverse("shop:language"), {"language": "de", "next": "/"})

    assert User.objects.get(pk=owner.pk).language == ""


def test_an_anonymous_visitor_gets_the_sign_in_page_in_the_chosen_language(db: None) -> None:
    client = Client()
    client.post(reverse("shop:language"), {"language": "en", "next": reverse("login")})

    assert "Sign in" in client.get(reverse("login")).content.decode()


def test_periodic_work_is_named_in_the_readers_language_and_stored_in_english(owner_client: Client) -> None:
    assert PeriodicTask.objects.get(task="scoring.nightly").name == "Refit the scores every night"
    assert "Ночной пересчёт оценок" in owner_client.get(reverse("schedules")).content.decode()
    owner_client.post(reverse("shop:language"), {"language": "en", "next": "/"})
    assert "Refit the scores every night" in owner_client.get(reverse("schedules")).content.decode()


@pytest.mark.parametrize(("chosen", "before"), [("en", "ru"), ("ru", "en")])
def test_a_signed_in_request_leaves_the_language_it_found(db: None, client: Client, chosen: str, before: str) -> None:
    # Requests of the test client run in the test's own thread: a language left active by one would become the
    # language of whatever the test does next (a sweep, a task run eagerly).
    client.force_login(make_user(Role.MANAGER, language=chosen))
    with translation.override(before):
        response = client.get(reverse("home"))
        assert translation.get_language() == before
    assert response["Content-Language"] == chosen
