"""The scoring pages in a real browser: Run now with its progress bar, the bar following a run to its end, the
backtest's charts and its section following a backtest to its end, the segments page's charts and its way into the
filtered customer list."""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from orders.models import OrderStatus
from scoring.models import Backtest, ScoringRun
from shop.models import User
from shop.roles import Role
from tests.factories import CustomerFactory, CustomerScoreFactory, OrderFactory, make_user
from tests.scoring.runs import backtest_figures, seed_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def english_owner() -> User:
    return make_user(Role.OWNER, language="en")


def test_run_now_shows_the_run_through_to_its_end(sign_in: Callable[[User], Page]):
    now = timezone.now()
    for number in range(12):
        customer = CustomerFactory.create()
        for days_ago in range(number % 3 + 1):
            OrderFactory.create(
                customer=customer,
                status=OrderStatus.DELIVERED,
                placed_at=now - timedelta(days=30 + 40 * days_ago + number),
                total=Decimal("1500.00"),
            )
    page = sign_in(english_owner())
    page.goto("/scoring/model/")
    expect(page.get_by_test_id("no-run")).to_be_visible()

    page.get_by_test_id("run-now").click()

    # Tests run Celery eagerly: the run has finished by the time the page comes back, and the bar says so.
    expect(page.get_by_test_id("run-state")).to_have_text("Succeeded")
    expect(page.get_by_test_id("run-bar")).to_have_text("100%")
    expect(page.get_by_test_id("run-now")).to_be_enabled()
    run = ScoringRun.objects.get()
    assert run.customers == 12
    expect(page.locator(f'[data-table=runs] tr[data-run="{run.pk}"]')).to_contain_text("Succeeded")


def test_the_progress_bar_follows_a_running_run_until_it_ends(sign_in: Callable[[User], Page]):
    run = ScoringRun.objects.create(state=ScoringRun.State.RUNNING, progress=30, started_at=timezone.now())
    page = sign_in(english_owner())
    page.goto("/scoring/model/")
    expect(page.get_by_test_id("run-bar")).to_have_text("30%")
    expect(page.get_by_test_id("run-now")).to_be_disabled()
    expect(page.get_by_test_id("run-busy")).to_be_visible()

    ScoringRun.objects.filter(pk=run.pk).update(progress=75)
    expect(page.get_by_test_id("run-bar")).to_have_text("75%")
    ScoringRun.objects.filter(pk=run.pk).update(state=ScoringRun.State.SUCCEEDED, progress=100)

    expect(page.get_by_test_id("run-state")).to_have_text("Succeeded")
    expect(page.get_by_test_id("run-bar")).to_have_text("100%")
    expect(page.get_by_test_id("run-now")).to_be_enabled()
    expect(page.locator("[data-field=reload]")).to_be_visible()
    expect(page.get_by_test_id("run-busy")).to_have_count(0)


def test_a_failed_run_shows_its_error(sign_in: Callable[[User], Page]):
    run = ScoringRun.objects.create(state=ScoringRun.State.PENDING)
    page = sign_in(english_owner())
    page.goto("/scoring/model/")

    ScoringRun.objects.filter(pk=run.pk).update(state=ScoringRun.State.FAILED, error="MemoryError: out of memory")

    expect(page.get_by_test_id("run-state")).to_have_text("Failed")
    expect(page.locator("#scoring-run-progress [data-field=error]")).to_have_text("MemoryError: out of memory")


BACKTEST_CHARTS = ("backtest-tracking-chart", "backtest-capture-chart", "backtest-roc-chart")


def expect_backtest_charts_drawn(page: Page) -> None:
    for canvas in BACKTEST_CHARTS:
        expect(page.locator(f"#{canvas}")).to_be_visible()
        # Chart.js sized the canvas and drew into it.
        assert page.evaluate(f"Chart.getChart('{canvas}') !== undefined")
        assert page.locator(f"#{canvas}").evaluate("canvas => canvas.width") > 0


def test_the_backtest_section_draws_its_charts(sign_in: Callable[[User], Page]):
    Backtest.objects.create(
        state=Backtest.State.SUCCEEDED,
        cutoff=date(2026, 5, 3),
        finished_at=timezone.now(),
        seconds=1.2,
        figures=backtest_figures(),
    )
    page = sign_in(english_owner())

    page.goto("/scoring/model/")

    expect(page.get_by_test_id("backtest-verdict")).to_have_text("The model is reliable here.")
    expect_backtest_charts_drawn(page)
    assert page.evaluate("Chart.getChart('backtest-tracking-chart').data.datasets[0].data.length") == 26
    assert page.evaluate("Chart.getChart('backtest-capture-chart').data.datasets[0].data") == [37.3, 66.6]
    # The ROC curve and the coin's diagonal.
    assert page.evaluate("Chart.getChart('backtest-roc-chart').data.datasets.map(d => d.data.length)") == [4, 2]


def test_the_backtest_section_follows_a_backtest_to_its_end(sign_in: Callable[[User], Page]):
    backtest = Backtest.objects.create(cutoff=date(2026, 5, 3))
    page = sign_in(english_owner())
    page.goto("/scoring/model/")
    expect(page.get_by_test_id("backtest-active")).to_contain_text("Waiting")
    expect(page.get_by_test_id("backtest-now")).to_be_disabled()

    Backtest.objects.filter(pk=backtest.pk).update(
        state=Backtest.State.SUCCEEDED, finished_at=timezone.now(), seconds=0.8, figures=backtest_figures()
    )

    expect(page.get_by_test_id("backtest-report")).to_be_visible()
    expect(page.get_by_test_id("backtest-active")).to_have_count(0)
    expect(page.get_by_test_id("backtest-now")).to_be_enabled()
    expect_backtest_charts_drawn(page)


def test_a_backtest_run_from_the_page_shows_the_shops_own_figures(sign_in: Callable[[User], Page]):
    seed_shop()
    page = sign_in(english_owner())
    page.goto("/scoring/model/")
    expect(page.get_by_test_id("backtest-none")).to_be_visible()

    page.get_by_test_id("backtest-now").click()

    # Tests run Celery eagerly: the backtest has finished by the time the page comes back.
    expect(page.get_by_test_id("backtest-totals")).to_contain_text("Repeat purchases after the cut-off:")
    backtest = Backtest.objects.get()
    assert backtest.state == Backtest.State.SUCCEEDED
    expect_backtest_charts_drawn(page)


def test_a_cut_off_too_recent_is_refused_with_the_reason(sign_in: Callable[[User], Page]):
    page = sign_in(english_owner())
    page.goto("/scoring/model/")

    page.fill("#id_cutoff", (timezone.localdate() - timedelta(days=10)).isoformat())
    page.get_by_test_id("backtest-now").click()

    expect(page.locator("[data-form=backtest]")).to_contain_text("The cut-off must be at least 28 days before today")
    assert not Backtest.objects.exists()


def test_the_segments_page_draws_its_charts_and_leads_to_the_filtered_list(sign_in: Callable[[User], Page]):
    champion = CustomerScoreFactory.create(segment="champions", tier="vip", importance=99).customer
    at_risk = CustomerScoreFactory.create(segment="at_risk", tier="medium", importance=55).customer
    page = sign_in(make_user(Role.MANAGER, language="en"))

    page.locator("[data-nav=segments]").click()

    expect(page.get_by_test_id("scored-customers")).to_have_text("2")
    # The charts' scripts sit at the end of the page, after the text the line above waits for.
    page.wait_for_function("() => window.Chart && Chart.getChart('segments-chart') && Chart.getChart('tiers-chart')")
    assert page.evaluate("Chart.getChart('segments-chart').data.datasets[0].data") == [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    assert page.evaluate("Chart.getChart('tiers-chart').data.datasets[0].data") == [1, 0, 1, 0]
    page.locator('[data-table=rf-map] td[data-cell="55"] a').click()
    page.wait_for_url("**/customers/?segment=champions")
    expect(page.get_by_text(champion.name, exact=True)).to_be_visible()
    expect(page.get_by_text(at_risk.name, exact=True)).to_have_count(0)
