"""Only the owner changes rules (services and API); every change is kept with who, when, before and after."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from loyalty.models import LoyaltyRule, LoyaltyRuleChange
from loyalty.services import rule_create, rule_set_active, rule_update
from tests.factories import LoyaltyRuleFactory, make_manager, make_operator, make_owner

pytestmark = pytest.mark.django_db

RULES = "/api/v1/loyalty/rules"
TIERS = {"basis": "orders", "tiers": [[2, "3"], [5, "5"]]}


def test_the_owner_creates_a_rule_and_its_first_history_row() -> None:
    owner = make_owner()
    rule = rule_create(user=owner, name="Tiers", kind="cumulative", params=TIERS)
    change = LoyaltyRuleChange.objects.get(rule=rule)
    assert (change.changed_by, change.before) == (owner, None)
    assert change.after["params"] == {"basis": "orders", "tiers": [["2", "3"], ["5", "5"]]}
    assert rule.is_active is False


def test_a_change_keeps_before_and_after() -> None:
    owner = make_owner()
    rule = rule_create(user=owner, name="Tiers", kind="cumulative", params=TIERS)
    rule_update(user=owner, rule=rule, control_share=Decimal("0.1"))
    rule_set_active(user=owner, rule=rule, active=True)
    latest, middle = list(LoyaltyRuleChange.objects.filter(rule=rule))[:2]
    assert middle.before is not None
    assert (middle.before["control_share"], middle.after["control_share"]) == ("0.000", "0.1")
    assert middle.changed_fields == ["control_share"]
    assert latest.changed_fields == ["is_active"]


def test_a_save_that_changes_nothing_writes_no_history() -> None:
    owner = make_owner()
    rule = rule_create(user=owner, name="Tiers", kind="cumulative", params=TIERS)
    rule_update(user=owner, rule=rule, name="Tiers")
    assert LoyaltyRuleChange.objects.filter(rule=rule).count() == 1


@pytest.mark.parametrize("make", [make_manager, make_operator])
def test_managers_and_operators_cannot_change_rules(make: Callable[..., Any]) -> None:
    rule = LoyaltyRuleFactory.create(is_active=False)
    with pytest.raises(PermissionDenied):
        rule_create(user=make(), name="Mine", kind="cumulative", params=TIERS)
    with pytest.raises(PermissionDenied):
        rule_set_active(user=make(), rule=rule, active=True)
    assert LoyaltyRule.objects.get(pk=rule.pk).is_active is False
    assert LoyaltyRule.objects.count() == 1
    assert not LoyaltyRuleChange.objects.exists()


def test_parameters_the_kind_cannot_read_are_refused() -> None:
    with pytest.raises(ValidationError) as error:
        rule_create(user=make_owner(), name="Bad", kind="cumulative", params={"basis": "orders", "tiers": []})
    assert "tiers" in error.value.message_dict["params"][0]
    assert not LoyaltyRule.objects.exists()


@pytest.mark.parametrize("role", ["Manager", "Operator"])
def test_managers_and_operators_cannot_change_rules_through_the_api(
    client_for: Callable[[str | None], Client], role: str
) -> None:
    rule = LoyaltyRuleFactory.create(is_active=False)
    client = client_for(role)
    created = client.post(RULES, {"name": "x", "kind": "cumulative", "params": TIERS}, content_type="application/json")
    changed = client.patch(f"{RULES}/{rule.pk}", {"is_active": True}, content_type="application/json")
    assert (created.status_code, changed.status_code) == (403, 403)
    assert LoyaltyRule.objects.get(pk=rule.pk).is_active is False


def test_a_token_cannot_change_rules(api_client_for: Callable[..., Any]) -> None:
    response = api_client_for("quote", "redeem").post(
        RULES, {"name": "x", "kind": "cumulative", "params": TIERS}, format="json"
    )
    assert response.status_code in (401, 403)
    assert not LoyaltyRule.objects.exists()


def test_a_manager_reads_rules_and_an_operator_does_not(client_for: Callable[[str | None], Client]) -> None:
    LoyaltyRuleFactory.create(name="Credit")
    assert [r["name"] for r in client_for("Manager").get(RULES).json()] == ["Credit"]
    assert client_for("Operator").get(RULES).status_code == 403


def test_the_owner_creates_and_changes_a_rule_through_the_api(client_for: Callable[[str | None], Client]) -> None:
    client = client_for("Owner")
    created = client.post(
        RULES, {"name": "Tiers", "kind": "cumulative", "params": TIERS}, content_type="application/json"
    )
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    changed = client.patch(f"{RULES}/{rule_id}", {"is_active": True}, content_type="application/json")
    assert changed.status_code == 200
    assert changed.json()["is_active"] is True
    assert LoyaltyRuleChange.objects.filter(rule_id=rule_id).count() == 2


def test_bad_parameters_through_the_api_name_the_field(client_for: Callable[[str | None], Client]) -> None:
    response = client_for("Owner").post(
        RULES, {"name": "W", "kind": "win_back", "params": {"value_kind": "percent", "curve": "steps"}},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["params"] == ["steps: at least one step [risk_from, value] is required"]
