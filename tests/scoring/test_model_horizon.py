"""The model page's churn horizon (the sentence that says where it came from, the owner's field), the fallback
reason in words, and the run's backtest step among the step times."""

import html
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from scoring.explain import horizon_sentence
from scoring.models import ScoringRun, ScoringSettings
from shop.roles import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db

THRESHOLDS = {"vip_from": 95, "high_from": 80, "medium_from": 50}


@pytest.fixture
def client_for(db: None) -> Callable[..., Client]:
    def build(role: str, language: str = "en") -> Client:
        client = Client()
        client.force_login(make_user(role, language=language))
        return client

    return build


def run_with(**params: Any) -> ScoringRun:
    """A run that fell back for too few customers, with ``params`` besides."""
    params.setdefault("fallback", {"customers": 12, "minimum": 100})
    return ScoringRun.objects.create(
        state=ScoringRun.State.SUCCEEDED, method="rf", params=params, fallback_reason="few_customers", progress=100
    )


GAPS = {"horizon_days": 47, "horizon_source": "gaps", "gap_percentile_days": 47, "gaps_observed": 12345}


@pytest.mark.parametrize(
    ("language", "params", "sentence"),
    [
        (
            "en",
            GAPS,
            "Churn risk is the probability of no purchase within 47 days: 80% of this shop's repeat purchases came "
            "within 47 days of the previous one (12,345 repeat purchases seen).",
        ),
        (
            "en",
            {**GAPS, "horizon_days": 60, "horizon_source": "owner"},
            "Churn risk is the probability of no purchase within 60 days, a horizon set by the owner. By this shop's "
            "own history it would be 47 days.",
        ),
        (
            "en",
            {"horizon_days": 90, "horizon_source": "default", "gap_percentile_days": None, "gaps_observed": 12},
            "Churn risk is the probability of no purchase within 90 days, the default: too few repeat purchases seen "
            "to learn this shop's own (12 of the 20 needed).",
        ),
        (
            "ru",
            GAPS,
            "Риск оттока — вероятность того, что клиент ничего не купит в ближайшие 47 дней: 80% повторных покупок "
            "в этом магазине случились не позже чем через 47 дней после предыдущей (учтено повторных покупок: "
            "12 345).",
        ),
        (
            "ru",
            {**GAPS, "horizon_days": 21, "horizon_source": "owner", "gap_percentile_days": 31},
            "Риск оттока — вероятность того, что клиент ничего не купит в ближайший 21 день; этот срок задал "
            "владелец. По истории магазина он был бы 31 день.",
        ),
        (
            "ru",
            {"horizon_days": 90, "horizon_source": "default", "gap_percentile_days": None, "gaps_observed": 12},
            "Риск оттока — вероятность того, что клиент ничего не купит в ближайшие 90 дней; это срок по умолчанию: "
            "повторных покупок слишком мало, чтобы узнать срок этого магазина (учтено 12 из 20 нужных).",
        ),
    ],
    ids=["gaps", "owner", "default", "gaps-ru", "owner-ru", "default-ru"],
)
def test_the_page_says_what_the_churn_horizon_is_and_where_it_came_from(
    client_for: Callable[..., Client], language: str, params: dict[str, Any], sentence: str
):
    run_with(**params)

    page = html.unescape(client_for(Role.OWNER, language).get(reverse("scoring:model")).content.decode())

    # Russian groups thousands with a no-break space.
    assert sentence in " ".join(page.split())


def test_a_run_recorded_before_horizons_has_no_horizon_sentence():
    assert horizon_sentence({"bgnbd": {"r": 1}}) == ""


def test_the_owner_sets_the_churn_horizon_and_learns_it_applies_from_the_next_run(client_for: Callable[..., Client]):
    run_with(**GAPS)
    client = client_for(Role.OWNER)

    response = client.post(reverse("scoring:model"), {**THRESHOLDS, "churn_horizon_days": 60}, follow=True)

    assert ScoringSettings.load().churn_horizon_days == 60
    page = response.content.decode()
    assert "The churn horizon of 60 days applies from the next run." in page
    assert "From the next run: 60 days, as the owner set." in page
    assert 'name="churn_horizon_days" value="60"' in page


def test_an_empty_churn_horizon_makes_it_automatic_again(client_for: Callable[..., Client]):
    settings = ScoringSettings.load()
    settings.churn_horizon_days = 60
    settings.save()
    run_with(**{**GAPS, "horizon_days": 60, "horizon_source": "owner"})

    response = client_for(Role.OWNER).post(
        reverse("scoring:model"), {**THRESHOLDS, "churn_horizon_days": ""}, follow=True
    )

    assert ScoringSettings.load().churn_horizon_days is None
    page = response.content.decode()
    assert "The churn horizon is automatic again from the next run." in page
    assert "From the next run the horizon is learnt from this shop's history again." in html.unescape(page)


def test_saving_the_thresholds_alone_says_nothing_of_the_horizon(client_for: Callable[..., Client]):
    response = client_for(Role.OWNER).post(reverse("scoring:model"), THRESHOLDS, follow=True)

    page = response.content.decode()
    assert "Tier thresholds saved" in page
    assert "The churn horizon" not in page


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (6, "greater than or equal to 7"),
        (731, "less than or equal to 730"),
        ("soon", "Enter a whole number"),
    ],
    ids=["under-a-week", "over-two-years", "not-a-number"],
)
def test_a_churn_horizon_out_of_range_is_refused_and_nothing_changes(
    client_for: Callable[..., Client], days: object, message: str
):
    response = client_for(Role.OWNER).post(
        reverse("scoring:model"), {**THRESHOLDS, "vip_from": 90, "churn_horizon_days": days}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    settings = ScoringSettings.load()
    assert (settings.vip_from, settings.churn_horizon_days) == (95, None)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR], ids=["manager", "operator"])
def test_the_churn_horizon_cannot_be_changed_without_configure(client_for: Callable[..., Client], role: str):
    response = client_for(role).post(reverse("scoring:model"), {**THRESHOLDS, "churn_horizon_days": 30})

    assert response.status_code == 403
    assert ScoringSettings.load().churn_horizon_days is None


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Only 12 customers have a delivered order; the model needs at least 100."),
        ("ru", "Доставленные заказы есть только у 12 клиентов; модели нужно не меньше 100."),
    ],
)
def test_the_fallback_reads_as_a_sentence_not_its_code(client_for: Callable[..., Client], language: str, sentence: str):
    run = run_with()

    page = client_for(Role.OWNER, language).get(reverse("scoring:model")).content.decode()

    assert page.count(sentence) == 2  # the last run's card and its row among the runs
    assert "few_customers" not in page
    assert f'data-run="{run.pk}"' in page


def test_the_backtest_step_sits_between_fit_and_score(client_for: Callable[..., Client]):
    ScoringRun.objects.create(
        state=ScoringRun.State.SUCCEEDED,
        timings={"score": 0.5, "backtest": 0.75, "statistics": 1.0, "fit": 0.25},
        progress=100,
    )

    page = client_for(Role.OWNER).get(reverse("scoring:model")).content.decode()

    assert "statistics 1.00 · fit 0.25 · backtest 0.75 · score 0.50" in page
