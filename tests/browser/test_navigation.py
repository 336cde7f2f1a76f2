"""What each role sees in the navigation after signing in, in a real browser."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from shop.models import User
from shop.roles import Role
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_sees_the_settings_menu_with_users_and_tokens(sign_in: Callable[[User], Page]) -> None:
    page = sign_in(make_user(Role.OWNER))

    expect(page.get_by_test_id("role")).to_have_text("Владелец")
    page.locator("[data-nav=settings] > a").click()
    expect(page.locator("[data-nav=users]")).to_be_visible()
    expect(page.locator("[data-nav=tokens]")).to_be_visible()
    expect(page.locator("[data-nav=shop-settings]")).to_be_visible()


@pytest.mark.parametrize(
    ("role", "label"), [(Role.MANAGER, "Менеджер"), (Role.OPERATOR, "Оператор")], ids=["manager", "operator"]
)
def test_managers_and_operators_see_no_settings_menu(sign_in: Callable[[User], Page], role: str, label: str) -> None:
    page = sign_in(make_user(role))

    expect(page.get_by_test_id("role")).to_have_text(label)
    expect(page.locator("[data-nav=home]")).to_be_visible()
    expect(page.locator("[data-nav=settings]")).to_have_count(0)
    expect(page.locator("[data-panel=setup]")).to_have_count(0)


def test_switching_the_language_in_the_navigation_turns_the_page_english(sign_in: Callable[[User], Page]) -> None:
    page = sign_in(make_user(Role.OPERATOR))
    expect(page.locator("[data-nav=home]")).to_have_text("Главная")

    page.get_by_test_id("language").select_option("en")

    expect(page.locator("[data-nav=home]")).to_have_text("Dashboard")
