"""The shop's own settings: sensible Russian defaults, edited by the owner only, validated before saving."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shop.models import ShopSettings, User

SETTINGS_PAGE = reverse("shop:settings")


@pytest.fixture
def owner_client(owner: User) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def settings_form(**overrides: str) -> dict[str, Any]:
    return {
        "name": "Чайная лавка",
        "currency": "RUB",
        "time_zone": "Europe/Moscow",
        "phone_region": "RU",
        "gross_margin_percent": "30.00",
        "monthly_discount_rate_percent": "1.00",
        "language": "ru",
        "operator_cards_per_hour": "60",
        "audit_retention_days": "365",
        **overrides,
    }


def test_a_new_shop_starts_with_russian_defaults(db: None) -> None:
    shop = ShopSettings.load()

    assert (shop.currency, shop.time_zone, shop.phone_region, shop.language) == ("RUB", "Europe/Moscow", "RU", "ru")
    assert shop.gross_margin_percent == Decimal("30.00")


def test_the_owner_changes_currency_time_zone_and_margin(owner_client: Client) -> None:
    response = owner_client.post(
        SETTINGS_PAGE, settings_form(currency="KZT", time_zone="Asia/Almaty", gross_margin_percent="42.50")
    )

    assert response.status_code == 302
    shop = ShopSettings.objects.get()
    assert (shop.currency, shop.time_zone, shop.gross_margin_percent) == ("KZT", "Asia/Almaty", Decimal("42.50"))
    assert shop.gross_margin == Decimal("0.425")


def test_a_saved_change_is_seen_at_once_despite_the_cache(owner_client: Client) -> None:
    assert ShopSettings.load().currency == "RUB"

    owner_client.post(SETTINGS_PAGE, settings_form(currency="EUR"))

    assert ShopSettings.load().currency == "EUR"


@pytest.mark.parametrize(
    "overrides",
    [
        {"gross_margin_percent": "150"},
        {"gross_margin_percent": "-1"},
        {"gross_margin_percent": "abc"},
        {"monthly_discount_rate_percent": "51"},
        {"currency": "XYZ"},
        {"time_zone": "Mars/Olympus"},
    ],
    ids=["margin-over-100", "negative-margin", "margin-not-a-number", "discount-rate-over-50", "currency", "zone"],
)
def test_invalid_settings_are_refused_and_nothing_changes(owner_client: Client, overrides: dict[str, str]) -> None:
    before = ShopSettings.objects.values().get(pk=ShopSettings.load().pk)

    response = owner_client.post(SETTINGS_PAGE, settings_form(**{"currency": "USD", **overrides}))

    assert response.status_code == 200
    assert set(overrides) <= set(response.context["form"].errors)
    assert ShopSettings.objects.values().get(pk=1) == before


@pytest.mark.parametrize("role", ["Manager", "Operator"])
def test_other_roles_cannot_change_the_settings(client_for: Callable[[str | None], Client], role: str) -> None:
    ShopSettings.load()

    response = client_for(role).post(SETTINGS_PAGE, settings_form(currency="USD"))

    assert response.status_code == 403
    assert ShopSettings.objects.get().currency == "RUB"


def test_there_is_only_ever_one_settings_record(db: None) -> None:
    ShopSettings(name="Another shop").save()
    ShopSettings(name="Yet another").save()

    assert list(ShopSettings.objects.values_list("pk", "name")) == [(1, "Yet another")]
