"""Stored English shown in the reader's language: schedules, token scopes, the unnamed shop, survey figures in a
churn reason."""

from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import translation

from scoring.explain import reason_lines
from shop.models import ShopSettings
from shop.roles import Role
from shop.schedules import schedule_when
from shop.services import token_issue


def interval(every: int, period: str) -> SimpleNamespace:
    return SimpleNamespace(interval=SimpleNamespace(every=every, period=period), crontab=None)


def crontab(minute: str, hour: str) -> SimpleNamespace:
    return SimpleNamespace(
        interval=None,
        crontab=SimpleNamespace(minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*"),
    )


@pytest.mark.parametrize(
    ("task", "english", "russian"),
    [
        (interval(5, "minutes"), "every 5 minutes", "каждые 5 минут"),
        (interval(1, "days"), "every 1 day", "каждый 1 день"),
        (crontab("30", "3"), "every day at 03:30", "каждый день в 03:30"),
        (crontab("*/5", "*"), "on the schedule */5 * * * *", "по расписанию */5 * * * *"),
    ],
)
def test_a_schedule_says_when_it_runs_in_words(task, english, russian):
    with translation.override("en"):
        assert schedule_when(task) == english
    with translation.override("ru"):
        assert schedule_when(task) == russian


@pytest.mark.django_db
def test_the_schedules_page_shows_no_scheduler_internals(client_for):
    with translation.override("ru"):
        page = client_for(Role.OWNER).get(reverse("schedules")).content.decode()
    assert "&lt;freq" not in page and "&lt;crontab" not in page
    assert "каждый день в 03:30" in page


@pytest.mark.django_db
def test_token_scopes_are_listed_in_the_readers_language(client_for):
    token_issue(name="Сайт", scopes=["import"], created_by=None)
    page = client_for(Role.OWNER).get(reverse("shop:tokens")).content.decode()
    assert "Импортировать заказы и клиентов" in page


@pytest.mark.django_db
def test_the_unnamed_shop_is_called_my_shop_in_the_readers_language():
    shop = ShopSettings.load()
    with translation.override("ru"):
        assert shop.display_name == "Мой магазин"
    shop.name = "Ромашка"
    assert shop.display_name == "Ромашка"


def test_a_survey_answer_in_a_churn_reason_is_told_in_russian():
    reasons = [{"signal": "detractor", "detail": "recommend 4/10, purchase 2/5, service 3/5"}]
    with translation.override("ru"):
        (line,) = reason_lines(reasons, {"detractor": "Критик"})
    assert line.startswith("Критик: готовность рекомендовать — 4/10")
    assert "recommend" not in line
