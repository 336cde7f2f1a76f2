"""The reports: NPS and CSAT by week and month with the response rate, by acquisition channel and by RF segment,
and the latest comments."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Channel, Customer
from feedback.models import Invitation, Response
from feedback.selectors import latest_comments, response_rate, scores_by_channel, scores_by_period, scores_by_segment
from feedback.services import invitations_schedule, response_submit
from scoring.models import Segment
from shop.roles import Role
from tests.feedback.helpers import consent, deliver, score

pytestmark = pytest.mark.django_db
ClientFor = Callable[[str | None], Client]
MARCH_2 = datetime(2026, 3, 2, 10, tzinfo=UTC)  # a Monday
MARCH_9 = datetime(2026, 3, 9, 10, tzinfo=UTC)
APRIL_6 = datetime(2026, 4, 6, 10, tzinfo=UTC)


def _sent(number: int, *, at: datetime) -> Invitation:
    order = deliver(f"R-{number}", phone=f"+7999555{number:04d}", email=f"r{number}@example.com")
    consent(order)
    invitations_schedule(order_ids=[order.pk])
    Invitation.objects.filter(order=order).update(state="sent", sent_at=at)
    return Invitation.objects.get(order=order)


def _answered(number: int, recommend: int, *, at: datetime, service: int = 5, comment: str = "") -> Invitation:
    invitation = _sent(number, at=at)
    response_submit(
        invitation=invitation, product_score=5, service_score=service, recommend_score=recommend, comment=comment
    )
    Response.objects.filter(invitation=invitation).update(created_at=at)
    return invitation


def test_scores_by_segment_join_the_score_table_in_one_query(django_assert_num_queries: Callable[..., Any]) -> None:
    champion_promoter = _answered(1, 10, at=MARCH_2)
    champion_detractor = _answered(2, 3, at=MARCH_2, service=2)
    at_risk = _answered(3, 0, at=MARCH_2)
    _answered(4, 9, at=MARCH_2)  # not scored yet
    score(champion_promoter.customer_id, Segment.CHAMPIONS)
    score(champion_detractor.customer_id, Segment.CHAMPIONS)
    score(at_risk.customer_id, Segment.AT_RISK)
    with django_assert_num_queries(1):
        rows = scores_by_segment()
    assert [(row["segment"], row["answers"], row["nps"], row["csat"]) for row in rows] == [
        (Segment.CHAMPIONS, 2, 0.0, 50.0),
        (Segment.AT_RISK, 1, -100.0, 100.0),
        ("", 1, 100.0, 100.0),
    ]
    assert str(rows[0]["label"]) == str(Segment.CHAMPIONS.label)


def test_scores_by_segment_leave_out_answers_before_the_window() -> None:
    old = _answered(1, 10, at=MARCH_2)
    score(old.customer_id, Segment.LOYAL)
    recent = _answered(2, 0, at=APRIL_6)
    score(recent.customer_id, Segment.LOST)
    assert [row["segment"] for row in scores_by_segment(since=MARCH_9)] == [Segment.LOST]


def test_scores_by_week_carry_the_response_rate_of_the_surveys_sent_that_week() -> None:
    _answered(1, 10, at=MARCH_2)
    _answered(2, 5, at=MARCH_2)
    _sent(3, at=MARCH_2)
    _sent(4, at=MARCH_2)
    _sent(5, at=MARCH_9)  # a week with surveys out and no answer yet still shows
    rows = scores_by_period(period="week")
    assert [(row["bucket"].date().isoformat(), row["answers"], row["nps"], row["sent"], row["response_rate"])
            for row in rows] == [("2026-03-02", 2, 0.0, 4, 50.0), ("2026-03-09", 0, None, 1, 0.0)]  # fmt: skip


def test_scores_by_month_group_weeks_of_the_same_month() -> None:
    _answered(1, 10, at=MARCH_2)
    _answered(2, 9, at=MARCH_9)
    _answered(3, 0, at=APRIL_6)
    rows = scores_by_period(period="month")
    assert [(row["bucket"].date().isoformat(), row["answers"], row["nps"], row["response_rate"]) for row in rows] == [
        ("2026-03-01", 2, 100.0, 100.0),
        ("2026-04-01", 1, -100.0, 100.0),
    ]


def test_response_rate_counts_answered_among_sent() -> None:
    _answered(1, 10, at=MARCH_2)
    _sent(2, at=MARCH_2)
    _sent(3, at=MARCH_2)
    _sent(4, at=MARCH_2)
    assert response_rate() == {"sent": 4, "answered": 1, "rate": 25.0}
    assert response_rate(since=MARCH_9) == {"sent": 0, "answered": 0, "rate": None}


def test_scores_by_channel_use_the_customers_acquisition_channel() -> None:
    ads = _answered(1, 10, at=MARCH_2)
    social = _answered(2, 0, at=MARCH_2)
    Customer.objects.filter(pk=ads.customer_id).update(channel=Channel.SEARCH_ADS)
    Customer.objects.filter(pk=social.customer_id).update(channel=Channel.SOCIAL)
    rows = {row["channel"]: (row["answers"], row["nps"]) for row in scores_by_channel()}
    assert rows == {Channel.SEARCH_ADS: (1, 100.0), Channel.SOCIAL: (1, -100.0)}


def test_latest_comments_are_the_newest_answers_with_text() -> None:
    _answered(1, 10, at=MARCH_2, comment="Всё отлично")
    _answered(2, 3, at=MARCH_9, comment="Долго везли")
    _answered(3, 8, at=APRIL_6)
    assert [answer.comment for answer in latest_comments()] == ["Долго везли", "Всё отлично"]


def test_reports_page_shows_every_section_with_its_charts(client_for: ClientFor) -> None:
    champion = _answered(1, 10, at=datetime.now(tz=UTC), comment="Спасибо за подарок")
    score(champion.customer_id, Segment.CHAMPIONS)
    client = client_for(Role.MANAGER)
    for period in ("week", "month"):
        response = client.get(reverse("feedback:reports"), {"period": period})
        assert response.status_code == 200
        page = response.content.decode()
        for part in ('id="by-period"', 'id="segment-chart"', 'id="channel-chart"', 'id="scores-chart"'):
            assert part in page
        assert "Спасибо за подарок" in page
        assert response.context["totals"] == {"sent": 1, "answered": 1, "rate": 100.0}
        segment_chart = response.context["chart"]["groups"]["segment"]
        assert segment_chart["nps"] == [100.0]
        assert segment_chart["labels"][0] in page  # the segment's label in the page's language
        assert [row["segment"] for row in response.context["segments"]] == [Segment.CHAMPIONS]


def test_reports_are_refused_to_operators(client_for: ClientFor) -> None:
    assert client_for(Role.OPERATOR).get(reverse("feedback:reports")).status_code == 403
