"""The survey on a phone-sized screen in a real browser, against the live test server."""

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, sync_playwright

from feedback.links import survey_path
from feedback.models import Invitation, Response
from feedback.services import response_submit
from scoring.models import Segment
from tests.factories import make_manager
from tests.feedback.helpers import consent, deliver, score
from tests.prerequisites import prerequisite_missing

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture
def phone_browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        prerequisite_missing(f"{CHROMIUM} is missing: install Debian's chromium package")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_a_customer_answers_the_survey_on_a_phone(
    transactional_db: None, live_server: object, phone_browser: Browser
) -> None:
    # One transaction, as a shop that sends consent with the order: the receiver runs after commit and sees it.
    with transaction.atomic():
        order = deliver(language="en")
        consent(order)
    invitation = Invitation.objects.get()
    context = phone_browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server}{survey_path(invitation)}")
    # Nothing wider than the phone: no sideways scrolling on the survey.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("input[name=product_score][value='4'] + label")
    page.click("input[name=service_score][value='4'] + label")
    page.click("input[name=recommend_score][value='9'] + label")
    page.fill("#id_comment", "Fast delivery")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Thank you!")
    answer = Response.objects.get()
    assert (answer.product_score, answer.service_score, answer.recommend_score) == (4, 4, 9)
    assert answer.comment == "Fast delivery"
    context.close()


def test_the_reports_draw_their_charts_without_script_errors(
    transactional_db: None, live_server: object, phone_browser: Browser
) -> None:
    with transaction.atomic():
        order = deliver(language="en")
        consent(order)
    invitation = Invitation.objects.get()
    Invitation.objects.filter(pk=invitation.pk).update(state="sent", sent_at=timezone.now())
    response_submit(invitation=invitation, product_score=2, service_score=2, recommend_score=3, comment="Late")
    score(invitation.customer_id, Segment.AT_RISK)
    client = Client()
    client.force_login(make_manager())
    context = phone_browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": str(live_server)}]
    )  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}{reverse('feedback:reports')}?period=week")
    drawn = page.evaluate(
        """["scores-chart", "segment-chart", "channel-chart"].map(
            (id) => Chart.getChart(document.getElementById(id))?.data.datasets[0].data)"""
    )
    assert errors == []
    assert drawn == [[-100], [-100], [-100]]
    context.close()
