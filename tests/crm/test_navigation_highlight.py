"""The navigation marks the page the reader is on, and keeps the owner's configuration pages under one menu."""

import re

import pytest
from django.urls import reverse

from shop.roles import Role

pytestmark = pytest.mark.django_db


def active_items(page: str) -> set[str]:
    """The data-nav names of the highlighted entries (the Settings menu's toggle counts as "settings")."""
    names = set(re.findall(r'class="(?:nav-link|dropdown-item)[^"]*\bactive\b[^"]*" data-nav="([\w-]+)"', page))
    if re.search(r'data-nav="settings">\s*<a class="nav-link dropdown-toggle active"', page):
        names.add("settings")
    return names


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("feedback:reports", {"feedback-reports"}),
        ("feedback:follow_ups", {"feedback"}),
        ("feedback:settings", {"settings", "feedback-settings"}),
        ("scoring:model", {"settings", "scoring-model"}),
        ("scoring:segments", {"segments"}),
        ("shop:tokens", {"settings", "tokens"}),
    ],
)
def test_the_page_the_owner_is_on_is_the_one_highlighted(client_for, address, expected):
    page = client_for(Role.OWNER).get(reverse(address)).content.decode()
    assert active_items(page) == expected


def test_the_owners_model_and_survey_settings_are_in_the_settings_menu(client_for):
    page = client_for(Role.OWNER).get(reverse("home")).content.decode()
    menu = page.split('data-nav="settings"')[1].split("</ul>")[0]
    assert 'data-nav="scoring-model"' in menu and 'data-nav="feedback-settings"' in menu


def test_the_language_selector_names_each_language_in_itself(client_for):
    page = client_for(Role.OPERATOR).get(reverse("home")).content.decode()
    assert 'lang="ru" selected>Русский</option>' in page and 'lang="en" >English</option>' in page
