"""The owner manages staff accounts: create with a role, change the role, deactivate; nobody else may."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shop.models import ShopSettings, User
from shop.roles import Role
from tests.factories import TEST_PASSWORD, make_manager, make_operator

NEW_PASSWORD = "Sunflower-Ledger-42"


@pytest.fixture
def owner_client(owner: User) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def new_user_form(**overrides: str) -> dict[str, str]:
    return {
        "username": "olga",
        "first_name": "Ольга",
        "last_name": "Петрова",
        "email": "olga@example.com",
        "extension": "102",
        "language": "",
        "role": Role.OPERATOR,
        "password": NEW_PASSWORD,
        **overrides,
    }


def edit_form(member: User, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "extension": member.extension,
        "language": member.language,
        "is_active": "on" if member.is_active else "",
        "role": member.role,
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value != ""}


def can_sign_in(username: str, password: str) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def test_the_owner_creates_a_user_with_a_role(owner_client: Client) -> None:
    response = owner_client.post(reverse("shop:user_create"), new_user_form(role=Role.MANAGER))

    assert response.status_code == 302
    created = User.objects.get(username="olga")
    assert created.role == Role.MANAGER
    assert created.extension == "102"
    assert created.is_active


def test_a_created_user_signs_in_with_the_password_the_owner_set(owner_client: Client) -> None:
    owner_client.post(reverse("shop:user_create"), new_user_form())

    assert can_sign_in("olga", NEW_PASSWORD)


def test_the_owner_changes_a_users_role(owner_client: Client) -> None:
    member = make_operator()

    response = owner_client.post(reverse("shop:user_edit", args=[member.pk]), edit_form(member, role=Role.MANAGER))

    assert response.status_code == 302
    member = User.objects.get(pk=member.pk)
    assert member.role == Role.MANAGER
    assert list(member.groups.values_list("name", flat=True)) == [Role.MANAGER]


def test_a_deactivated_user_can_no_longer_sign_in(owner_client: Client) -> None:
    member = make_manager()
    assert can_sign_in(member.username, TEST_PASSWORD)

    response = owner_client.post(reverse("shop:user_edit", args=[member.pk]), edit_form(member, is_active=""))

    assert response.status_code == 302
    assert not User.objects.get(pk=member.pk).is_active
    assert not can_sign_in(member.username, TEST_PASSWORD)


def test_a_deactivated_users_open_session_ends(owner_client: Client) -> None:
    member = make_manager()
    members_browser = Client()
    members_browser.force_login(member)

    owner_client.post(reverse("shop:user_edit", args=[member.pk]), edit_form(member, is_active=""))

    response = members_browser.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_owner_cannot_deactivate_himself(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("shop:user_edit", args=[owner.pk]), edit_form(owner, is_active=""))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert User.objects.get(pk=owner.pk).is_active


def test_the_owner_cannot_change_his_own_role(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("shop:user_edit", args=[owner.pk]), edit_form(owner, role=Role.OPERATOR))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert User.objects.get(pk=owner.pk).role == Role.OWNER


def test_a_refused_self_edit_changes_no_other_field(owner_client: Client, owner: User) -> None:
    owner_client.post(
        reverse("shop:user_edit", args=[owner.pk]), edit_form(owner, is_active="", first_name="Someone else")
    )

    assert User.objects.get(pk=owner.pk).first_name == owner.first_name


def test_the_owner_may_still_edit_his_own_details(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("shop:user_edit", args=[owner.pk]), edit_form(owner, extension="900"))

    assert response.status_code == 302
    assert User.objects.get(pk=owner.pk).extension == "900"


@pytest.mark.parametrize("password", ["12345678", "password", "short"], ids=["numeric", "common", "too-short"])
def test_a_weak_password_shows_a_form_error_and_creates_nobody(owner_client: Client, password: str) -> None:
    response = owner_client.post(reverse("shop:user_create"), new_user_form(password=password))

    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    assert not User.objects.filter(username="olga").exists()


def test_a_taken_username_shows_a_form_error_and_creates_nobody(owner_client: Client) -> None:
    make_manager(username="olga")

    response = owner_client.post(reverse("shop:user_create"), new_user_form())

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert User.objects.filter(username="olga").count() == 1


def test_an_unknown_role_shows_a_form_error_and_creates_nobody(owner_client: Client) -> None:
    response = owner_client.post(reverse("shop:user_create"), new_user_form(role="Superhero"))

    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(username="olga").exists()


@pytest.mark.parametrize("role", ["Manager", "Operator"])
def test_other_roles_cannot_create_users(client_for: Callable[[str | None], Client], role: str) -> None:
    response = client_for(role).post(reverse("shop:user_create"), new_user_form(role=Role.OWNER))

    assert response.status_code == 403
    assert not User.objects.filter(username="olga").exists()


@pytest.mark.parametrize("role", ["Manager", "Operator"])
def test_other_roles_cannot_change_users(client_for: Callable[[str | None], Client], role: str) -> None:
    member = make_operator()

    response = client_for(role).post(
        reverse("shop:user_edit", args=[member.pk]), edit_form(member, role=Role.OWNER, is_active="")
    )

    assert response.status_code == 403
    member = User.objects.get(pk=member.pk)
    assert (member.role, member.is_active) == (Role.OPERATOR, True)


@pytest.mark.parametrize("others", [1, 6])
def test_the_users_page_costs_the_same_queries_for_any_number_of_users(
    owner_client: Client, django_assert_num_queries: Callable[..., Any], others: int
) -> None:
    for _ in range(others):
        make_operator()
    ShopSettings.load()

    # session, signed-in user, the device that verified the session, their role, the list (with each one's second
    # factor), the list's roles, the locked pairs
    with django_assert_num_queries(7):
        response = owner_client.get(reverse("shop:users"))

    assert response.status_code == 200
    assert len(response.context["users"]) == others + 1
