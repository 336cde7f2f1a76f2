"""The one filter every number on a page goes through, and money beside it, in the reader's format."""

from decimal import Decimal

import pytest
from django.utils import translation

from shop.templatetags.retain_format import money, number

NBSP = "\u00a0"


@pytest.mark.parametrize(("language", "shown"), [("ru", f"2{NBSP}920"), ("en", "2,920")])
def test_a_count_is_grouped_in_the_readers_format(language, shown):
    with translation.override(language):
        assert number(2920) == shown


@pytest.mark.parametrize(("language", "shown"), [("ru", "5,8"), ("en", "5.8")])
def test_a_fraction_takes_the_readers_decimal_mark(language, shown):
    with translation.override(language):
        assert number(5.82, 1) == shown


@pytest.mark.parametrize(("language", "shown"), [("ru", f"217{NBSP}538,50{NBSP}₽"), ("en", f"217,538.50{NBSP}₽")])
@pytest.mark.django_db
def test_money_uses_the_same_format_as_numbers(language, shown):
    with translation.override(language):
        assert money(Decimal("217538.5"), "RUB") == shown


@pytest.mark.django_db
def test_whole_money_drops_its_zero_kopecks():
    with translation.override("ru"):
        assert money(Decimal("3000.00"), "RUB") == f"3{NBSP}000{NBSP}₽"


def test_nothing_shows_as_nothing():
    assert number(None) == ""


def test_a_fraction_is_rounded_half_up_not_cut_off():
    with translation.override("en"):
        assert (number(5.826, 2), number(0.125, 2)) == ("5.83", "0.13")


def test_a_tiny_negative_shows_as_zero_without_a_sign():
    with translation.override("ru"):
        assert number(-0.04, 1) == "0,0"
