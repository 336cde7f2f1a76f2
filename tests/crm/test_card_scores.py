"""The customer card's score section: the explanation, importance and tier, R/F/M, segment, the model's figures,
churn risk with its reasons, the monthly history chart, and why a customer has no score yet."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from scoring.card import HISTORY_MONTHS, score_history
from scoring.models import ScoreSnapshot
from tests.factories import CustomerFactory, CustomerScoreFactory, OrderFactory, make_manager, operator_opens_card


def card(customer: Customer) -> str:
    return reverse("customer_card", kwargs={"pk": customer.pk})


@pytest.fixture
def english_manager(db, client):
    client.force_login(make_manager(language="en"))
    return client


def section(content: str) -> str:
    return content.split('data-section="score"')[1].split('data-testid="timeline"')[0]


def test_card_shows_the_whole_score(english_manager):
    score = CustomerScoreFactory.create(
        importance=97,
        tier="vip",
        segment="champions",
        r_score=5,
        f_score=4,
        m_score=3,
        transactions=14,
        p_alive=0.38,
        expected_30=0.25,
        expected_90=0.71,
        expected_365=2.4,
        predicted_clv=Decimal("48200.00"),
        churn_risk=0.62,
        churn_reasons=[{"signal": "detractor", "detail": "recommend 3/10"}, {"returns": 2}],
    )
    content = section(english_manager.get(card(score.customer)).content.decode())
    assert ">97<" in content and ">VIP<" in content
    assert "Top 3%" in content and "14 purchase days" in content
    assert "Champions" in content and "R5 F4 M3" in content
    assert "38%" in content and "0.25" in content and "0.71" in content and "2.4" in content
    assert "48\u00a0200\u00a0₽" in content
    assert "Churn risk 62%" in content and "Detractor answer: recommend 3/10" in content
    assert "2 returns in the last 90 days" in content


def test_a_score_without_a_fitted_model_says_it_uses_rf_only(english_manager):
    score = CustomerScoreFactory.create(p_alive=None, expected_30=None, predicted_clv=None, churn_risk=None)
    content = section(english_manager.get(card(score.customer)).content.decode())
    assert "Without the purchase model, importance ranks an average order" in content
    assert 'data-testid="card-churn"' not in content and 'data-testid="card-model"' not in content


def test_a_customer_without_delivered_orders_is_told_why_there_is_no_score(english_manager):
    customer = CustomerFactory.create()
    OrderFactory.create(customer=customer, status="returned")
    content = english_manager.get(card(customer)).content.decode()
    assert "computed from delivered orders, and this customer has none" in content
    assert 'data-testid="card-importance"' not in content


def test_a_customer_with_a_delivered_order_but_no_score_waits_for_the_run(english_manager):
    customer = CustomerFactory.create()
    OrderFactory.create(customer=customer, status="delivered")
    content = english_manager.get(card(customer)).content.decode()
    assert "Not scored yet: the score appears after the next scoring run." in content


def _snapshot(customer: Customer, month: date, importance: int, churn: float | None) -> ScoreSnapshot:
    return ScoreSnapshot.objects.create(
        customer=customer, month=month, importance=importance, tier="medium", segment="loyal", churn_risk=churn
    )


def test_history_lists_monthly_snapshots_oldest_first_then_the_current_score(db):
    score = CustomerScoreFactory.create(importance=81, churn_risk=0.125)
    _snapshot(score.customer, date(2026, 2, 1), 70, 0.3)
    _snapshot(score.customer, date(2025, 12, 1), 64, None)
    _snapshot(CustomerFactory.create(), date(2026, 1, 1), 10, 0.9)  # someone else's
    history = score_history(score.customer, score)
    assert history["labels"][:2] == ["2025-12", "2026-02"] and len(history["labels"]) == 3
    assert history["importance"] == [64, 70, 81]
    assert history["churn"] == [None, 30.0, 12.5]


def test_history_keeps_the_latest_two_years(db):
    score = CustomerScoreFactory.create(importance=50)
    for index in range(30):
        _snapshot(score.customer, date(2024 + index // 12, 1 + index % 12, 1), index, 0.1)
    history = score_history(score.customer, score)
    assert len(history["labels"]) == HISTORY_MONTHS + 1
    assert history["labels"][0] == "2024-07" and history["importance"][-2:] == [29, 50]


def test_card_embeds_the_chart_data_and_its_script(english_manager):
    score = CustomerScoreFactory.create(importance=81, churn_risk=0.2)
    _snapshot(score.customer, date(2026, 1, 1), 75, 0.25)
    content = english_manager.get(card(score.customer)).content.decode()
    data = json.loads(content.split('<script id="score-history" type="application/json">')[1].split("</script>")[0])
    assert data["importance"] == [75, 81] and data["churn"] == [25.0, 20.0]
    assert data["labels"] == ["2026-01", "now"] and data["names"]["importance"] == "Importance"
    assert "js/card-score-chart.js" in content and "chartjs/chart.umd.min.js" in content


def test_a_single_point_draws_no_chart(english_manager):
    score = CustomerScoreFactory.create()
    content = english_manager.get(card(score.customer)).content.decode()
    assert 'id="score-history"' not in content and "card-score-chart.js" not in content


def test_operator_sees_the_score_on_a_card_found_by_lookup(client_for):
    score = CustomerScoreFactory.create(importance=88, tier="high")
    content = operator_opens_card(score.customer_id).content.decode()
    assert 'data-testid="card-importance">88<' in content
