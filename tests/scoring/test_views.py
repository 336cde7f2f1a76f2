"""The scoring pages: who may open them, Run now, the progress endpoint, the tier thresholds form, the segment links."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from scoring.models import CustomerScore, ScoringRun, ScoringSettings
from shop.roles import Role
from tests.factories import CustomerScoreFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(db: None) -> Callable[[str | None], Client]:
    """Like the suite's ``client_for``, but staff who chose English, so that the pages' words can be asserted
    (the shop's default language is Russian and the middleware speaks the user's language)."""

    def build(role: str | None) -> Client:
        client = Client()
        if role is not None:
            client.force_login(make_user(role, language="en"))
        return client

    return build


ROLES = [Role.OWNER, Role.MANAGER, Role.OPERATOR, None]
ROLE_IDS = ["owner", "manager", "operator", "anonymous"]


def _expected(allowed: set[str | None], role: str | None) -> int:
    if role is None:
        return 302
    return 200 if role in allowed else 403


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_segments_page_is_for_roles_that_see_money_reports(client_for: Callable[..., Client], role: str | None):
    response = client_for(role).get(reverse("scoring:segments"))

    assert response.status_code == _expected({Role.OWNER, Role.MANAGER}, role)
    if role is None:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_model_page_is_for_the_owner_only(client_for: Callable[..., Client], role: str | None):
    response = client_for(role).get(reverse("scoring:model"))

    assert response.status_code == _expected({Role.OWNER}, role)


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_run_status_is_for_the_owner_only(client_for: Callable[..., Client], role: str | None):
    run = ScoringRun.objects.create()

    response = client_for(role).get(reverse("scoring:run_status", args=[run.pk]))

    assert response.status_code == _expected({Role.OWNER}, role)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR, None], ids=ROLE_IDS[1:])
def test_only_the_owner_may_start_a_run(client_for: Callable[..., Client], role: str | None):
    response = client_for(role).post(reverse("scoring:run_start"))

    assert response.status_code == (302 if role is None else 403)
    assert not ScoringRun.objects.exists()


def test_run_now_records_a_pending_run_by_the_owner(client_for: Callable[..., Client]):
    client = client_for(Role.OWNER)

    with translation.override("en"):
        response = client.post(reverse("scoring:run_start"), follow=True)

    run = ScoringRun.objects.get()
    # The test's transaction never commits, so the task queued on commit has not run: the run waits.
    assert run.state == ScoringRun.State.PENDING
    assert run.triggered_by is not None
    assert run.triggered_by.groups.filter(name=Role.OWNER).exists()
    assert response.redirect_chain[-1][0] == reverse("scoring:model")
    assert f"Scoring run {run.pk} started." in response.content.decode()


@pytest.mark.parametrize("state", [ScoringRun.State.PENDING, ScoringRun.State.RUNNING])
def test_run_now_is_refused_while_another_run_is_waiting_or_running(client_for: Callable[..., Client], state: str):
    ScoringRun.objects.create(state=state)

    with translation.override("en"):
        response = client_for(Role.OWNER).post(reverse("scoring:run_start"), follow=True)

    assert ScoringRun.objects.count() == 1
    assert "A scoring run is already" in response.content.decode()
    assert "wait for it to finish" in response.content.decode()


def test_run_now_is_allowed_again_after_the_last_run_ended(client_for: Callable[..., Client]):
    ScoringRun.objects.create(state=ScoringRun.State.FAILED, error="boom")
    ScoringRun.objects.create(state=ScoringRun.State.SUCCEEDED)

    client_for(Role.OWNER).post(reverse("scoring:run_start"))

    assert ScoringRun.objects.filter(state=ScoringRun.State.PENDING).count() == 1


def test_run_now_only_accepts_a_post(client_for: Callable[..., Client]):
    response = client_for(Role.OWNER).get(reverse("scoring:run_start"))

    assert response.status_code == 405
    assert not ScoringRun.objects.exists()


def test_run_status_answers_state_progress_and_error(client_for: Callable[..., Client]):
    run = ScoringRun.objects.create(state=ScoringRun.State.RUNNING, progress=50)
    failed = ScoringRun.objects.create(state=ScoringRun.State.FAILED, progress=30, error="ValueError: bad")
    client = client_for(Role.OWNER)

    with translation.override("en"):
        running = client.get(reverse("scoring:run_status", args=[run.pk])).json()
        ended = client.get(reverse("scoring:run_status", args=[failed.pk])).json()

    assert running == {
        "id": run.pk,
        "state": "running",
        "state_label": "Running",
        "progress": 50,
        "finished": False,
        "customers": 0,
        "error": "",
    }
    assert ended["state"] == "failed"
    assert ended["finished"] is True
    assert ended["error"] == "ValueError: bad"


def test_run_status_of_a_succeeded_run_is_complete(client_for: Callable[..., Client]):
    run = ScoringRun.objects.create(state=ScoringRun.State.SUCCEEDED, progress=75, customers=12)

    data = client_for(Role.OWNER).get(reverse("scoring:run_status", args=[run.pk])).json()

    assert data["progress"] == 100
    assert data["finished"] is True
    assert data["customers"] == 12


def test_run_status_of_an_unknown_run_is_not_found(client_for: Callable[..., Client]):
    response = client_for(Role.OWNER).get(reverse("scoring:run_status", args=[999999]))

    assert response.status_code == 404


def test_model_page_shows_runs_parameters_timings_and_the_fit(client_for: Callable[..., Client]):
    for tenure, transactions in [(100, 1), (200, 2), (300, 4), (50, 1), (400, 9)]:
        CustomerScoreFactory(tenure_days=tenure, transactions=transactions)
    ScoringRun.objects.create(
        state=ScoringRun.State.SUCCEEDED,
        customers=5,
        method="bgnbd",
        params={
            "bgnbd": {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.4},
            "bgnbd_log_likelihood": -1234.56,
            "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
            "gamma_gamma_log_likelihood": -789.0,
            "time_unit": "day",
        },
        timings={"statistics": 1.5, "fit": 0.25, "score": 0.5, "write": 2.0},
        progress=100,
    )

    with translation.override("en"):
        response = client_for(Role.OWNER).get(reverse("scoring:model"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "-1,234.6" in page
    assert "15.4400" in page
    assert "statistics 1.50" in page
    assert "write 2.00" in page
    assert "(Σ 4.25)" in page
    fit = response.context["fit"]
    assert fit.labels == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert fit.actual == [2, 1, 0, 1, 0, 0, 0, 1]
    assert sum(fit.expected) == pytest.approx(5, abs=0.2)
    assert 'id="fit-data"' in page


def test_model_page_says_why_the_last_run_fell_back(client_for: Callable[..., Client]):
    ScoringRun.objects.create(
        state=ScoringRun.State.SUCCEEDED, method="rf", fallback_reason="only 12 customers", progress=100
    )

    with translation.override("en"):
        response = client_for(Role.OWNER).get(reverse("scoring:model"))

    assert response.context["fit"] is None
    assert "scores come from RF quintiles only" in response.content.decode()
    assert "only 12 customers" in response.content.decode()


def test_model_page_disables_run_now_while_a_run_is_in_progress(client_for: Callable[..., Client]):
    run = ScoringRun.objects.create(state=ScoringRun.State.RUNNING, progress=30)

    response = client_for(Role.OWNER).get(reverse("scoring:model"))

    page = response.content.decode()
    assert 'data-testid="run-now" disabled' in page
    assert reverse("scoring:run_status", args=[run.pk]) in page
    assert 'data-active="true"' in page


def test_thresholds_are_saved_and_every_score_is_retiered(client_for: Callable[..., Client]):
    top = CustomerScoreFactory.create(importance=90, tier="high")
    middle = CustomerScoreFactory.create(importance=60, tier="medium")

    with translation.override("en"):
        response = client_for(Role.OWNER).post(
            reverse("scoring:model"), {"vip_from": 85, "high_from": 70, "medium_from": 40}, follow=True
        )

    settings = ScoringSettings.load()
    assert (settings.vip_from, settings.high_from, settings.medium_from) == (85, 70, 40)
    assert CustomerScore.objects.get(pk=top.pk).tier == "vip"
    assert CustomerScore.objects.get(pk=middle.pk).tier == "medium"
    assert "Tier thresholds saved" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"vip_from": 70, "high_from": 80, "medium_from": 50}, "Tier thresholds must rise"),
        ({"vip_from": 95, "high_from": 80, "medium_from": 90}, "Tier thresholds must rise"),
        ({"vip_from": 101, "high_from": 80, "medium_from": 50}, "less than or equal to 100"),
        ({"vip_from": 95, "high_from": -1, "medium_from": 50}, "greater than or equal to 0"),
        ({"vip_from": 95, "high_from": "", "medium_from": 50}, "This field is required"),
    ],
    ids=["vip-below-high", "medium-above-high", "above-100", "negative", "missing"],
)
def test_thresholds_out_of_order_or_range_are_refused_and_nothing_changes(
    client_for: Callable[..., Client], data: dict[str, object], message: str
):
    score = CustomerScoreFactory.create(importance=90, tier="high")

    with translation.override("en"):
        response = client_for(Role.OWNER).post(reverse("scoring:model"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    settings = ScoringSettings.load()
    assert (settings.vip_from, settings.high_from, settings.medium_from) == (95, 80, 50)
    assert CustomerScore.objects.get(pk=score.pk).tier == "high"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR], ids=["manager", "operator"])
def test_thresholds_cannot_be_changed_without_configure(client_for: Callable[..., Client], role: str):
    response = client_for(role).post(reverse("scoring:model"), {"vip_from": 90, "high_from": 70, "medium_from": 40})

    assert response.status_code == 403
    assert ScoringSettings.load().vip_from == 95


def test_segments_page_links_every_segment_and_tier_to_the_filtered_list(client_for: Callable[..., Client]):
    CustomerScoreFactory(segment="champions", tier="vip", importance=99, total_value=Decimal("9000.00"))

    page = client_for(Role.MANAGER).get(reverse("scoring:segments")).content.decode()

    list_url = reverse("customers:list")
    for segment in ("champions", "loyal", "at_risk", "cant_lose", "lost", "new"):
        assert f'href="{list_url}?segment={segment}"' in page
    for tier in ("vip", "high", "medium", "low"):
        assert f'href="{list_url}?tier={tier}"' in page
    assert 'id="segments-data"' in page


def test_segments_page_shows_the_rf_map_as_in_the_engine(client_for: Callable[..., Client]):
    response = client_for(Role.MANAGER).get(reverse("scoring:segments"))

    page = response.content.decode()
    # Corners of the map: R5 F5 champions, R5 F1 new, R1 F1 lost, R1 F5 can't lose them.
    assert 'data-cell="55" data-segment="champions"' in page
    assert 'data-cell="51" data-segment="new"' in page
    assert 'data-cell="11" data-segment="lost"' in page
    assert 'data-cell="15" data-segment="cant_lose"' in page
    assert page.count("data-cell=") == 25


def test_managers_see_the_thresholds_read_only(client_for: Callable[..., Client]):
    with translation.override("en"):
        page = client_for(Role.MANAGER).get(reverse("scoring:segments")).content.decode()

    assert "VIP from 95, High from 80, Medium from 50" in page
    assert reverse("scoring:model") not in page


def test_the_owner_sees_the_way_to_change_the_thresholds(client_for: Callable[..., Client]):
    page = client_for(Role.OWNER).get(reverse("scoring:segments")).content.decode()

    assert f"{reverse('scoring:model')}#thresholds" in page


def test_segments_page_reads_a_fixed_number_of_queries(client_for: Callable[..., Client], django_assert_num_queries):
    CustomerScoreFactory.create_batch(3)
    client = client_for(Role.MANAGER)
    client.get(reverse("scoring:segments"))  # fills the caches

    # Session and user, their groups' permissions, the last run and the thresholds (the cache key); the figures
    # come from the cache, so a million scores cost the same.
    with django_assert_num_queries(5):
        client.get(reverse("scoring:segments"))


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.OWNER, ["segments", "scoring-model"], []),
        (Role.MANAGER, ["segments"], ["scoring-model"]),
        (Role.OPERATOR, [], ["segments", "scoring-model"]),
    ],
    ids=["owner", "manager", "operator"],
)
def test_navigation_shows_the_scoring_pages_a_role_may_open(
    client_for: Callable[..., Client], role: str, visible: list[str], hidden: list[str]
):
    page = client_for(role).get(reverse("home")).content.decode()

    for name in visible:
        assert f'data-nav="{name}"' in page
    for name in hidden:
        assert f'data-nav="{name}"' not in page
