"""Each role's home page: the owner's morning view, the manager's and the operator's, their figures, links and CSV
exports, in both languages."""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import MarketingSpend
from analytics.services import aggregates_refresh
from customers.models import Call, CallState
from feedback.services import follow_up_open
from shop.roles import Role
from tests.analytics.helpers import TODAY, small_shop
from tests.analytics.test_effect import small_programme
from tests.factories import CustomerFactory, CustomerScoreFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def _client(role: str, language: str) -> Client:
    client = Client()
    client.force_login(make_user(role, language=language))
    return client


def _csv(client: Client, name: str) -> list[str]:
    response = client.get(reverse("home"), {"export": name})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode().lstrip("\ufeff").splitlines()  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    ("role", "panels"),
    [
        (Role.OWNER, ["at-risk", "nps", "repeat-share", "payback", "programmes"]),
        (Role.MANAGER, ["follow-ups", "warnings"]),
        (Role.OPERATOR, ["missed", "calls-today"]),
    ],
)
def test_each_role_has_its_dashboard_in_both_languages(role: str, panels: list[str], language: str):
    small_shop()
    aggregates_refresh()
    page = _client(role, language).get(reverse("home"))
    assert page.status_code == 200
    html = page.content.decode()
    for panel in panels:
        assert f'data-panel="{panel}"' in html
    title = {"en": "Missed calls to return", "ru": "Пропущенные звонки: перезвонить"}[language]
    assert (title in html) == (role == Role.OPERATOR)


def test_the_owner_sees_value_at_stake_repeat_share_payback_and_verdicts():
    # Small shop: only Boris has a churn risk of 50 % or more (70 %), with a predicted margin of 100.
    small_shop()
    MarketingSpend.objects.create(channel="email", month=TODAY.date().replace(month=1, day=1), amount=Decimal("100"))
    MarketingSpend.objects.create(channel="social", month=TODAY.date().replace(month=2, day=1), amount=Decimal("5000"))
    aggregates_refresh()
    client = _client(Role.OWNER, "en")
    html = client.get(reverse("home")).content.decode()
    assert 'data-figure="value-at-stake">100\xa0₽<' in html
    assert "of 1 customer with a churn risk of 50% or more" in html
    # Email: CAC 100 / 2 = 50, paid back in month 0 (margin 700 per customer); social: CAC 5,000 not yet.
    best = html.split('data-figure="best-channel"')[1].split("</dd>")[0]
    worst = html.split('data-figure="worst-channel"')[1].split("</dd>")[0]
    assert "Email" in best and "0 months" in best
    assert "not yet" in worst
    assert reverse("analytics:channels") in best
    # June: no delivered revenue, so the last share is that of February: 600 of 3,600 from a returning customer.
    assert 'data-figure="repeat-share">16.7%' in html


def test_the_owner_sees_each_programmes_verdict_and_exports_them():
    small_programme()
    aggregates_refresh()
    client = _client(Role.OWNER, "en")
    html = client.get(reverse("home")).content.decode()
    assert 'data-verdict="not_enough_data"' in html
    assert "Win-back" in html
    lines = _csv(client, "programmes")
    assert lines[0].startswith("Programme;Treated;Control;")
    # The dashboard shows 90 days: T4's 200 counts, treated net 225.00 a customer against 83.33.
    assert lines[1].startswith("Win-back;4;3;141.67;")


def test_the_manager_sees_open_follow_ups_and_early_warnings():
    customer = CustomerFactory.create(name="Зоя")
    follow_up_open(customer_id=customer.pk, reason="Early warning", opened_by=None)
    client = _client(Role.MANAGER, "en")
    html = client.get(reverse("home")).content.decode()
    assert 'data-figure="open-follow-ups">1<' in html
    assert reverse("feedback:follow_up", args=[customer.feedback_follow_ups.get().pk]) in html
    assert 'data-panel="programmes"' not in html
    lines = _csv(client, "follow_ups")
    assert lines[1].startswith("Зоя;Open;")
    assert lines[1].endswith(";Early warning")


def test_the_operator_sees_missed_calls_most_valuable_first_and_own_calls_today():
    operator = make_user(Role.OPERATOR, language="en")
    low = CustomerFactory.create(name="Low")
    high = CustomerFactory.create(name="High")
    CustomerScoreFactory.create(customer=low, importance=10)
    CustomerScoreFactory.create(customer=high, importance=95)
    now = timezone.now()
    for customer in (low, high):
        Call.objects.create(customer=customer, phone="+79990000000", state=CallState.MISSED, started_at=now)
    Call.objects.create(customer=low, phone="+79990000001", operator=operator, state=CallState.ENDED, started_at=now)
    Call.objects.create(
        customer=high, phone="+79990000002", operator=operator, state=CallState.ENDED,
        started_at=now - timedelta(days=1),
    )  # fmt: skip
    client = Client()
    client.force_login(operator)
    html = client.get(reverse("home")).content.decode()
    missed = html.split('id="dashboard-missed"')[1].split("</table>")[0]
    assert missed.index("High") < missed.index("Low")
    today = html.split('id="dashboard-calls"')[1].split("</table>")[0]
    assert "Low" in today and "High" not in today
    assert len(_csv(client, "calls")) == 2
    assert len(_csv(client, "missed")) == 3
    # Money reports stay closed to operators.
    assert client.get(reverse("analytics:effect")).status_code == 403
