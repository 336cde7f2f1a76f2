"""The backtest on the owner's model page: each state in both languages, the form that starts one, its status
endpoint, who may use them, and a real backtest of a seeded shop from the button to the figures."""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from scoring.models import Backtest
from shop.roles import Role
from tests.factories import make_user
from tests.scoring.runs import backtest_figures as figures
from tests.scoring.runs import seed_shop

pytestmark = pytest.mark.django_db

# Noon in Moscow (the shop's time zone) on 1 November 2026: today is 1 November there.
NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)
TODAY = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client_for(db: None) -> Callable[..., Client]:
    """A client signed in as staff of ``role`` who reads ``language``; ``None``: nobody signed in."""

    def build(role: str | None, language: str = "en") -> Client:
        client = Client()
        if role is not None:
            client.force_login(make_user(role, language=language))
        return client

    return build


def finished(state: str, **fields: Any) -> Backtest:
    return Backtest.objects.create(
        state=state, cutoff=date(2026, 5, 3), finished_at=timezone.now(), seconds=1.25, **fields
    )


def backtest_section(page: str) -> str:
    """The backtest section's visible words: its HTML without the chart data, the tags and the attributes."""
    start = page.index(">", page.index('id="backtest"')) + 1
    section = page[start : page.index("</section>", start)]
    section = re.sub(r"<script.*?</script>", " ", section, flags=re.S)
    return re.sub(r"<[^>]+>", " ", section)


def english_words(text: str) -> set[str]:
    # The curve's name is the same in Russian.
    return set(re.findall(r"[A-Za-z]{2,}", text)) - {"ROC", "AUC"}


def model_page(client: Client) -> str:
    response = client.get(reverse("scoring:model"))
    assert response.status_code == 200
    return response.content.decode()


# --- Who may use it ---

ROLES = [Role.OWNER, Role.MANAGER, Role.OPERATOR, None]
ROLE_IDS = ["owner", "manager", "operator", "anonymous"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR, None], ids=ROLE_IDS[1:])
def test_only_the_owner_may_start_a_backtest(client_for: Callable[..., Client], role: str | None):
    response = client_for(role).post(reverse("scoring:backtest_start"), {"cutoff": "2026-05-03"})

    if role is None:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 403
    assert not Backtest.objects.exists()


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_backtest_status_is_for_the_owner_only(client_for: Callable[..., Client], role: str | None):
    backtest = Backtest.objects.create(cutoff=date(2026, 5, 3))

    response = client_for(role).get(reverse("scoring:backtest_status", args=[backtest.pk]))

    if role is None:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == (200 if role == Role.OWNER else 403)


def test_starting_a_backtest_only_accepts_a_post(client_for: Callable[..., Client]):
    response = client_for(Role.OWNER).get(reverse("scoring:backtest_start"))

    assert response.status_code == 405
    assert not Backtest.objects.exists()


# --- Each state of the section ---


@pytest.mark.parametrize("language", ["en", "ru"])
def test_without_a_backtest_the_page_says_one_is_made_every_night(client_for: Callable[..., Client], language: str):
    page = model_page(client_for(Role.OWNER, language))

    words = backtest_section(page)
    if language == "en":
        assert "No backtest yet. One is made every night" in words
    else:
        assert "Проверки ещё не было" in words
        assert english_words(words) == set()
    assert 'data-testid="backtest-report"' not in page


def test_a_succeeded_backtest_shows_its_figures(client_for: Callable[..., Client]):
    backtest = finished(Backtest.State.SUCCEEDED, figures=figures())

    response = client_for(Role.OWNER).get(reverse("scoring:model"))

    page = response.content.decode()
    words = " ".join(backtest_section(page).split())
    assert "Fitted on the orders before May 3, 2026 (400 customers had bought by then)" in words
    assert "judged on the 182 days after it" in words
    assert "in 1.25 s" in words
    assert "The model is reliable here." in words
    assert "Repeat purchases after the cut-off: 1,882 happened, 1,976 predicted (+5.0%)." in words
    assert "7+" in words
    assert "37.3%" in words and "32.3%" in words and "5.0%" in words
    assert "0.78" in words and "0.77" in words
    assert "61.2%" in words and "65.5%" in words
    for canvas in ("backtest-tracking-chart", "backtest-capture-chart", "backtest-roc-chart"):
        assert f'id="{canvas}"' in page
    chart = response.context["backtest_report"].chart
    assert chart["tracking"]["actual"][:2] == [70, 71]
    assert chart["tracking"]["labels"][:2] == ["05/03/2026", "05/10/2026"]
    assert chart["capture"]["importance"] == [37.3, 66.6]
    assert chart["roc"]["points"][1] == {"x": 0.1, "y": 0.35}
    assert f'data-backtest="{backtest.pk}"' in page


def test_a_succeeded_backtest_reads_in_russian_without_an_english_word(client_for: Callable[..., Client]):
    verdict = {
        "reliable": False,
        "problems": [
            {"code": "total_off", "error": 0.312},
            {"code": "weak_churn_ranking", "auc": 0.62},
            {"code": "ranking_below_spend", "share": 20},
        ],
    }
    finished(Backtest.State.SUCCEEDED, figures=figures(verdict=verdict))

    words = " ".join(backtest_section(model_page(client_for(Role.OWNER, "ru"))).split())

    assert "Пользуйтесь с осторожностью:" in words
    assert "Повторных покупок предсказано на 31% больше, чем случилось." in words
    assert "Повторных покупок после даты среза: было 1 882, предсказано 1 976 (+5,0%)." in words
    assert "37,3%" in words
    assert english_words(words) == set()


def test_a_backtest_that_needs_care_lists_each_reason(client_for: Callable[..., Client]):
    verdict = {"reliable": False, "problems": [{"code": "total_off", "error": -0.25}]}
    finished(Backtest.State.SUCCEEDED, figures=figures(verdict=verdict))

    words = " ".join(backtest_section(model_page(client_for(Role.OWNER))).split())

    assert "Use with care: Repeat purchases were predicted 25% below what happened." in words
    assert "The model is reliable here." not in words


def test_a_churn_ranking_without_anybody_to_tell_apart_shows_a_dash(client_for: Callable[..., Client]):
    churn = {**figures()["churn"], "auc": None, "recency_auc": None}
    finished(Backtest.State.SUCCEEDED, figures=figures(churn=churn))

    page = model_page(client_for(Role.OWNER))

    assert re.search(r'data-testid="backtest-auc">—<', page)


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "The cut-off leaves 10 days to compare with; a backtest needs at least 28."),
        ("ru", "После даты среза остаётся 10 дней для сравнения; для проверки нужно не меньше 28."),
    ],
)
def test_a_refused_backtest_says_why(client_for: Callable[..., Client], language: str, sentence: str):
    finished(Backtest.State.REFUSED, refusal="holdout_too_short", refusal_detail={"days": 10, "minimum": 28})

    page = model_page(client_for(Role.OWNER, language))

    words = " ".join(backtest_section(page).split())
    assert sentence in words
    assert "holdout_too_short" not in page
    if language == "ru":
        assert english_words(words) == set()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_failed_backtest_shows_its_error(client_for: Callable[..., Client], language: str):
    finished(Backtest.State.FAILED, error="MemoryError: out of memory")

    page = model_page(client_for(Role.OWNER, language))

    words = " ".join(backtest_section(page).split())
    assert "MemoryError: out of memory" in words
    prefix = "failed with an error:" if language == "en" else "завершилась ошибкой:"
    assert prefix in words
    if language == "ru":
        assert english_words(words) == {"MemoryError", "out", "of", "memory"}


def test_a_failed_backtest_leaves_the_last_figures_in_view(client_for: Callable[..., Client]):
    finished(Backtest.State.SUCCEEDED, figures=figures())
    Backtest.objects.create(
        state=Backtest.State.FAILED, cutoff=date(2026, 6, 1), finished_at=timezone.now(), error="OSError: disk"
    )

    page = model_page(client_for(Role.OWNER))

    assert 'data-testid="backtest-failed"' in page
    assert 'data-testid="backtest-report"' in page


def test_a_backtest_stuck_past_its_time_limit_is_shown_as_unfinished(client_for: Callable[..., Client]):
    Backtest.objects.create(
        state=Backtest.State.RUNNING, cutoff=date(2026, 5, 3), created_at=timezone.now() - timedelta(hours=1)
    )

    page = model_page(client_for(Role.OWNER))

    words = " ".join(backtest_section(page).split())
    assert "The backtest at the cut-off May 3, 2026 did not finish within its time limit" in words
    assert 'data-testid="backtest-active"' not in page
    assert 'data-testid="backtest-now" disabled' not in page


def test_a_waiting_backtest_is_polled_and_blocks_the_button(client_for: Callable[..., Client]):
    backtest = Backtest.objects.create(cutoff=date(2026, 5, 3))

    page = model_page(client_for(Role.OWNER))

    assert reverse("scoring:backtest_status", args=[backtest.pk]) in page
    assert 'data-testid="backtest-now" disabled' in page


def test_the_model_page_reads_a_fixed_number_of_queries(
    client_for: Callable[..., Client], django_assert_num_queries: Callable[..., Any]
):
    finished(Backtest.State.SUCCEEDED, figures=figures())
    finished(Backtest.State.FAILED, error="OSError: disk")
    client = client_for(Role.OWNER)
    client.get(reverse("scoring:model"))

    # Session, user, the device that verified the owner's session, and groups; the last successful run and the
    # recent runs; the settings; the backtest shown, the newest that failed, the one waiting or running.
    with django_assert_num_queries(10):
        client.get(reverse("scoring:model"))


# --- Starting one ---


def test_the_form_offers_six_months_back_as_the_cut_off(client_for: Callable[..., Client]):
    page = model_page(client_for(Role.OWNER))

    assert 'name="cutoff" value="2026-05-03"' in page


def test_the_owner_starts_a_backtest_at_a_cut_off(client_for: Callable[..., Client]):
    response = client_for(Role.OWNER).post(reverse("scoring:backtest_start"), {"cutoff": "2026-04-01"}, follow=True)

    backtest = Backtest.objects.get()
    # The test's transaction never commits, so the task queued on commit has not run: the backtest waits.
    assert (backtest.state, backtest.cutoff) == (Backtest.State.PENDING, date(2026, 4, 1))
    assert backtest.triggered_by is not None
    assert response.redirect_chain[-1][0] == reverse("scoring:model") + "#backtest"
    assert "Backtest at the cut-off April 1, 2026 started." in response.content.decode()


@pytest.mark.parametrize(
    ("cutoff", "message"),
    [
        ("2026-11-01", "The cut-off must be in the past"),
        ("2026-12-24", "The cut-off must be in the past"),
        ("2026-10-20", "The cut-off must be at least 28 days before today"),
        ("2026-10-05", "Oct. 4, 2026 at the latest"),
        ("", "This field is required"),
        ("yesterday", "Enter a valid date"),
    ],
    ids=["today", "future", "twelve-days-back", "one-day-too-recent", "missing", "not-a-date"],
)
def test_a_cut_off_too_recent_or_invalid_is_refused_and_nothing_starts(
    client_for: Callable[..., Client], cutoff: str, message: str
):
    response = client_for(Role.OWNER).post(reverse("scoring:backtest_start"), {"cutoff": cutoff})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Backtest.objects.exists()


def test_a_cut_off_exactly_four_weeks_back_is_accepted(client_for: Callable[..., Client]):
    client_for(Role.OWNER).post(reverse("scoring:backtest_start"), {"cutoff": "2026-10-04"})

    assert Backtest.objects.get().cutoff == date(2026, 10, 4)


@pytest.mark.parametrize("state", [Backtest.State.PENDING, Backtest.State.RUNNING])
def test_a_second_backtest_is_refused_while_one_waits_or_runs(client_for: Callable[..., Client], state: str):
    Backtest.objects.create(state=state, cutoff=date(2026, 5, 3))

    response = client_for(Role.OWNER).post(reverse("scoring:backtest_start"), {"cutoff": "2026-04-01"}, follow=True)

    assert Backtest.objects.count() == 1
    assert "A backtest is already" in response.content.decode()
    assert "wait for it to finish" in response.content.decode()


def test_a_backtest_stuck_past_its_time_limit_does_not_block_the_next(client_for: Callable[..., Client]):
    Backtest.objects.create(cutoff=date(2026, 5, 3), created_at=timezone.now() - timedelta(hours=1))

    client_for(Role.OWNER).post(reverse("scoring:backtest_start"), {"cutoff": "2026-04-01"})

    assert Backtest.objects.filter(cutoff=date(2026, 4, 1)).exists()


def test_backtest_status_answers_state_error_and_refusal(client_for: Callable[..., Client]):
    running = Backtest.objects.create(state=Backtest.State.RUNNING, cutoff=date(2026, 5, 3))
    refused = finished(Backtest.State.REFUSED, refusal="few_customers", refusal_detail={"customers": 3, "minimum": 100})
    client = client_for(Role.OWNER)

    assert client.get(reverse("scoring:backtest_status", args=[running.pk])).json() == {
        "id": running.pk,
        "state": "running",
        "state_label": "Running",
        "finished": False,
        "error": "",
        "refusal": "",
    }
    ended = client.get(reverse("scoring:backtest_status", args=[refused.pk])).json()
    assert ended["finished"] is True
    assert ended["refusal"] == "Only 3 customers have a delivered order; the model needs at least 100."


def test_backtest_status_of_an_unknown_backtest_is_not_found(client_for: Callable[..., Client]):
    response = client_for(Role.OWNER).get(reverse("scoring:backtest_status", args=[999999]))

    assert response.status_code == 404


# --- The whole way ---


def test_a_backtest_started_from_the_page_shows_the_shops_figures(
    client_for: Callable[..., Client], django_capture_on_commit_callbacks: Callable[..., Any]
):
    seed_shop()
    client = client_for(Role.OWNER)

    # Tests run Celery eagerly: the task runs when the request's transaction would have committed.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scoring:backtest_start"), {"cutoff": "2026-05-03"})

    backtest = Backtest.objects.get()
    assert backtest.state == Backtest.State.SUCCEEDED, backtest.refusal or backtest.error
    actual = backtest.figures["repeat_purchases"]["actual"]
    assert actual > 0
    assert backtest.figures["holdout_days"] == 182
    response = client.get(reverse("scoring:model"))
    words = " ".join(backtest_section(response.content.decode()).split())
    assert f"Repeat purchases after the cut-off: {round(actual):,} happened" in words
    assert "judged on the 182 days after it" in words
    assert response.context["backtest_report"].chart["tracking"]["actual"] == backtest.figures["weekly"]["actual"]
