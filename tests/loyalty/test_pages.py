"""The owner's rule pages: the list, the editor, and a rule's preview and history."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from loyalty.models import LoyaltyRule, LoyaltyRuleChange
from loyalty.preview import rule_preview
from tests.factories import CustomerScoreFactory, LoyaltyRuleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 200), ("Operator", 403)])
def test_the_rules_list_is_for_owners_and_managers(
    client_for: Callable[[str | None], Client], role: str, status: int
) -> None:
    LoyaltyRuleFactory.create(name="Bonus 5 %")
    response = client_for(role).get(reverse("loyalty:rules"))
    assert response.status_code == status
    if status == 200:
        assert "Bonus 5 %" in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_sign_in(client_for: Callable[[str | None], Client]) -> None:
    response = client_for(None).get(reverse("loyalty:rules"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_manager_sees_a_rule_but_cannot_open_the_editor(client_for: Callable[[str | None], Client]) -> None:
    rule = LoyaltyRuleFactory.create()
    client = client_for("Manager")
    assert client.get(reverse("loyalty:rule", args=[rule.pk])).status_code == 200
    assert client.get(reverse("loyalty:rule_edit", args=[rule.pk])).status_code == 403
    posted = client.post(reverse("loyalty:rule_new"), {"name": "x", "kind": "cumulative"})
    assert posted.status_code == 403
    assert LoyaltyRule.objects.count() == 1


def test_the_owner_creates_a_rule_in_the_editor(client_for: Callable[[str | None], Client]) -> None:
    client = client_for("Owner")
    response = client.post(
        reverse("loyalty:rule_new"),
        {
            "name": "Win back", "kind": "win_back", "order_kind": "any", "stacking": "best", "control_share": "0.1",
            "params": '{"value_kind": "percent", "curve": "steps", "steps": [["0.6", "10"]], "risk_threshold": "0.6"}',
        },
    )  # fmt: skip
    rule = LoyaltyRule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("loyalty:rule", args=[rule.pk])
    assert rule.params["steps"] == [["0.6", "10"]]
    assert LoyaltyRuleChange.objects.filter(rule=rule).count() == 1


def test_the_editor_names_the_parameter_that_is_wrong(client_for: Callable[[str | None], Client]) -> None:
    response = client_for("Owner").post(
        reverse("loyalty:rule_new"),
        {"name": "Tiers", "kind": "cumulative", "order_kind": "any", "stacking": "best", "control_share": "0",
         "params": '{"basis": "visits", "tiers": [[2, "3"]]}'},
    )  # fmt: skip
    assert response.status_code == 200
    assert "basis: must be one of orders, spend" in response.content.decode()
    assert not LoyaltyRule.objects.exists()


def test_the_preview_counts_who_qualifies_by_segment_and_tier_and_prices_it() -> None:
    rule = LoyaltyRuleFactory.create(
        kind="win_back",
        params={"value_kind": "percent", "curve": "steps", "steps": [["0.6", "10"]], "risk_threshold": "0.6"},
    )
    CustomerScoreFactory.create(
        churn_risk=0.7, segment="at_risk", tier="high", expected_30=0.5, average_value=Decimal("2000")
    )
    CustomerScoreFactory.create(
        churn_risk=0.9, segment="cant_lose", tier="vip", expected_30=0.2, average_value=Decimal("5000")
    )
    CustomerScoreFactory.create(churn_risk=0.3, segment="loyal", tier="vip")
    preview = rule_preview(rule)
    assert (preview.qualifying, preview.control) == (2, 0)
    assert dict(preview.by_segment) == {"at_risk": 1, "cant_lose": 1}
    assert dict(preview.by_tier) == {"high": 1, "vip": 1}
    assert preview.estimated_cost == Decimal("200.00")  # 0.5 × 2000 × 10 % + 0.2 × 5000 × 10 %


def test_a_rule_page_shows_the_preview_and_the_history(client_for: Callable[[str | None], Client]) -> None:
    from loyalty.services import rule_create, rule_update
    from tests.factories import make_owner

    owner = make_owner()
    rule = rule_create(user=owner, name="Tiers", kind="cumulative", params={"basis": "orders", "tiers": [[2, "3"]]})
    rule_update(user=owner, rule=rule, control_share=Decimal("0.2"))
    CustomerScoreFactory.create(transactions=3)
    page = client_for("Owner").get(reverse("loyalty:rule", args=[rule.pk])).content.decode()
    assert 'data-testid="qualifying">1<' in page
    assert "control_share" in page
