"""The rule engine on its own: tiers, the win-back curve, control groups, stacking, rounding (no database)."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import pytest

from loyalty.engine.evaluate import (
    BEST,
    STACK,
    Cart,
    CartLine,
    CodeOffer,
    Conditions,
    Facts,
    Rule,
    evaluate,
    in_control_group,
    win_back_value,
)
from loyalty.engine.params import Kind, ParamsError, WinBackParams, params_to_json, parse_params

TODAY = date(2026, 12, 5)
D = Decimal


def tiers_rule(rule_id: int = 1, **kwargs: object) -> Rule:
    params = parse_params(Kind.CUMULATIVE, {"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]})
    return Rule(id=rule_id, kind=Kind.CUMULATIVE, params=params, **kwargs)  # type: ignore[arg-type]


def win_back_rule(raw: Mapping[str, object], rule_id: int = 2, **kwargs: object) -> Rule:
    return Rule(id=rule_id, kind=Kind.WIN_BACK, params=parse_params(Kind.WIN_BACK, dict(raw)), **kwargs)  # type: ignore[arg-type]


def quote_for(facts: Facts, rules: list[Rule], total: str = "1000.00", **kwargs: object):  # type: ignore[no-untyped-def]
    return evaluate(facts=facts, cart=Cart(total=D(total)), rules=rules, today=TODAY, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("orders", "percent"),
    [(0, None), (1, None), (2, "3"), (4, "3"), (5, "5"), (9, "5"), (10, "10"), (250, "10")],
)
def test_cumulative_tier_starts_exactly_at_its_threshold(orders: int, percent: str | None) -> None:
    quote = quote_for(Facts(customer_id=7, delivered_orders=orders), [tiers_rule()])
    if percent is None:
        assert quote.offers == ()
        assert quote.discount == D("0")
    else:
        assert [o.percent for o in quote.offers] == [D(percent)]
        assert quote.discount == D("10.00") * D(percent)


def test_cumulative_tier_by_spend_counts_lifetime_delivered_spend() -> None:
    params = parse_params(Kind.CUMULATIVE, {"basis": "spend", "tiers": [["10000", "5"], ["50000", "7"]]})
    rule = Rule(id=1, kind=Kind.CUMULATIVE, params=params)
    assert quote_for(Facts(customer_id=1, lifetime_spend=D("9999.99")), [rule]).discount == D("0")
    assert quote_for(Facts(customer_id=1, lifetime_spend=D("10000.00")), [rule]).discount == D("50.00")
    assert quote_for(Facts(customer_id=1, lifetime_spend=D("50000.00")), [rule]).discount == D("70.00")


STEPS: dict[str, object] = {
    "value_kind": "percent",
    "curve": "steps",
    "steps": [["0.5", "5"], ["0.7", "10"], ["0.9", "15"]],
    "risk_threshold": "0.5",
}
LINEAR: dict[str, object] = {
    "value_kind": "percent", "curve": "linear", "risk_from": "0.5", "risk_to": "0.9", "value_from": "5",
    "value_to": "25", "risk_threshold": "0.5",
}  # fmt: skip


@pytest.mark.parametrize(
    ("risk", "percent"), [(0.49, None), (0.5, "5"), (0.69, "5"), (0.7, "10"), (0.89, "10"), (0.9, "15"), (1.0, "15")]
)
def test_win_back_steps_follow_the_owners_curve(risk: float, percent: str | None) -> None:
    quote = quote_for(Facts(customer_id=3, churn_risk=risk), [win_back_rule(STEPS)])
    assert [o.percent for o in quote.offers] == ([] if percent is None else [D(percent)])


@pytest.mark.parametrize(
    ("risk", "percent"), [(0.5, "5"), (0.6, "10"), (0.7, "15"), (0.8, "20"), (0.9, "25"), (0.99, "25")]
)
def test_win_back_linear_curve_grows_with_churn_risk(risk: float, percent: str) -> None:
    quote = quote_for(Facts(customer_id=3, churn_risk=risk), [win_back_rule(LINEAR)])
    assert quote.offers[0].percent == D(percent)
    assert quote.discount == D("10.00") * D(percent)


def test_win_back_is_scaled_by_predicted_value_and_capped() -> None:
    raw = {**LINEAR, "clv_reference": "10000", "scale_min": "0.5", "scale_max": "2", "cap": "30"}
    params = parse_params(Kind.WIN_BACK, raw)
    assert isinstance(params, WinBackParams)
    assert win_back_value(params, 0.9, D("5000")) == D("12.5")  # 25 % × 0.5
    assert win_back_value(params, 0.9, D("1000")) == D("12.5")  # clamped at scale_min
    assert win_back_value(params, 0.7, D("20000")) == D("30")  # 15 % × 2 = 30, at the cap
    assert win_back_value(params, 0.9, D("20000")) == D("30")  # 50 % capped to 30


def test_win_back_by_days_since_last_order_when_risk_is_unknown_gives_the_lowest_value() -> None:
    raw = {**STEPS, "risk_threshold": None, "days_threshold": 120}
    assert quote_for(Facts(customer_id=3, days_since_last_order=119), [win_back_rule(raw)]).offers == ()
    assert quote_for(Facts(customer_id=3, days_since_last_order=120), [win_back_rule(raw)]).offers[0].percent == D("5")


def test_fixed_win_back_credit_never_exceeds_the_order() -> None:
    raw = {"value_kind": "fixed", "curve": "steps", "steps": [["0.5", "500"]], "risk_threshold": "0.5"}
    quote = quote_for(Facts(customer_id=3, churn_risk=0.8), [win_back_rule(raw)], total="300.00")
    assert quote.discount == D("300.00")
    assert quote.total == D("0.00")


def test_control_group_customers_never_get_the_offer_and_stay_the_same() -> None:
    rule = tiers_rule(control_share=D("0.2"))
    customers = [Facts(customer_id=n, delivered_orders=10) for n in range(1, 2001)]
    first = {f.customer_id for f in customers if not quote_for(f, [rule]).offers}
    again = {f.customer_id for f in customers if not quote_for(f, [rule]).offers}
    assert first == again
    assert first == {f.customer_id for f in customers if in_control_group(1, f.customer_id, D("0.2"))}
    assert 300 < len(first) < 500  # about a fifth of 2,000
    for customer_id in first:
        reasons = [
            d.reason.key for d in quote_for(Facts(customer_id=customer_id, delivered_orders=10), [rule]).declined
        ]
        assert reasons == ["control_group"]


def test_control_groups_of_two_rules_are_drawn_independently() -> None:
    a = {n for n in range(5000) if in_control_group(1, n, D("0.5"))}
    b = {n for n in range(5000) if in_control_group(2, n, D("0.5"))}
    assert 0.4 < len(a & b) / len(a) < 0.6


def test_best_single_offer_wins_over_a_weaker_one() -> None:
    quote = quote_for(Facts(customer_id=1, delivered_orders=10, churn_risk=0.75), [tiers_rule(), win_back_rule(STEPS)])
    assert [o.rule_id for o in quote.offers] == [1]  # 10 % beats the 10 % win-back on rule id, then amount
    assert quote.discount == D("100.00")
    assert [d.reason.key for d in quote.declined] == ["not_combined"]


def test_stacked_offers_add_up_to_the_stacking_limit() -> None:
    rules = [
        tiers_rule(stacking=STACK, max_total_percent=D("12")),
        win_back_rule(STEPS, stacking=STACK, max_total_percent=D("12")),
    ]
    quote = quote_for(Facts(customer_id=1, delivered_orders=10, churn_risk=0.55), rules)
    assert quote.discount == D("120.00")  # 10 % + 5 % = 15 %, capped at 12 %, better than 10 % alone
    assert sum(o.amount for o in quote.offers) == D("120.00")


def test_a_single_offer_better_than_the_capped_stack_is_taken_alone() -> None:
    rules = [
        tiers_rule(stacking=STACK, max_total_percent=D("12")),
        win_back_rule(STEPS, stacking=STACK, max_total_percent=D("12")),
    ]
    quote = quote_for(Facts(customer_id=1, delivered_orders=10, churn_risk=0.95), rules)
    assert [(o.rule_id, o.amount) for o in quote.offers] == [(2, D("150.00"))]


def test_a_failed_condition_says_which() -> None:
    rule = tiers_rule(conditions=Conditions(segments=frozenset({"champions"})))
    quote = quote_for(Facts(customer_id=1, delivered_orders=10, segment="lost"), [rule])
    assert quote.declined[0].reason.key == "segment"


@pytest.mark.parametrize(
    ("conditions", "facts", "passes"),
    [
        (Conditions(order_kind="first"), Facts(customer_id=1), True),
        (Conditions(order_kind="first"), Facts(customer_id=1, delivered_orders=1), False),
        (Conditions(order_kind="repeat"), Facts(customer_id=1), False),
        (Conditions(min_order=D("1000.01")), Facts(customer_id=1), False),
        (Conditions(min_order=D("1000.00")), Facts(customer_id=1), True),
        (Conditions(churn_min=0.3, churn_max=0.6), Facts(customer_id=1, churn_risk=0.6), True),
        (Conditions(churn_min=0.3, churn_max=0.6), Facts(customer_id=1, churn_risk=None), False),
        (Conditions(ends_on=date(2026, 12, 4)), Facts(customer_id=1), False),
        (
            Conditions(tiers=frozenset({"vip"}), channels=frozenset({"email"})),
            Facts(customer_id=1, tier="vip", channel="email"),
            True,
        ),
    ],
)
def test_conditions(conditions: Conditions, facts: Facts, passes: bool) -> None:
    params = parse_params(Kind.VIP_PERK, {"perk": "free_delivery", "percent": "5"})
    quote = quote_for(facts, [Rule(id=1, kind=Kind.VIP_PERK, params=params, conditions=conditions)])
    assert bool(quote.offers) is passes


def test_a_budget_cuts_the_offer_to_what_is_left() -> None:
    quote = quote_for(Facts(customer_id=1, delivered_orders=10), [tiers_rule(budget_left=D("40.00"))])
    assert quote.discount == D("40.00")
    assert quote_for(Facts(customer_id=1, delivered_orders=10), [tiers_rule(budget_left=D("0"))]).discount == D("0")


def test_money_is_rounded_once_half_up() -> None:
    # 3 % of 0.50 = 0.015 → 0.02 (half up), not 0.01 (banker's)
    quote = quote_for(Facts(customer_id=1, delivered_orders=2), [tiers_rule()], total="0.50")
    assert quote.discount == D("0.02")


def test_line_discounts_add_up_to_the_order_discount() -> None:
    cart = Cart(
        total=D("100.00"), lines=(CartLine("a", D("33.33")), CartLine("b", D("33.33")), CartLine("c", D("33.34")))
    )
    quote = evaluate(facts=Facts(customer_id=1, delivered_orders=10), cart=cart, rules=[tiers_rule()], today=TODAY)
    assert quote.discount == D("10.00")
    assert sum(amount for _, amount in quote.line_discounts) == D("10.00")


def test_credit_pays_at_most_its_share_of_what_is_left() -> None:
    quote = quote_for(Facts(customer_id=1), [], balance=D("800.00"), credit_share_percent=D("50"))
    assert quote.credit_available == D("500.00")
    assert quote.total == D("500.00")


def test_a_coupon_in_hand_is_honoured_for_a_control_group_customer() -> None:
    coupon = CodeOffer(code="C1", source="coupon", value_kind="fixed", value=D("150"))
    quote = quote_for(Facts(customer_id=1), [], codes=[coupon])
    assert quote.discount == D("150.00")
    assert quote.offers[0].code == "C1"


@pytest.mark.parametrize(
    ("kind", "raw", "field"),
    [
        (Kind.CUMULATIVE, {"basis": "orders", "tiers": [[5, "5"], [2, "3"]]}, "tiers"),
        (Kind.CUMULATIVE, {"basis": "orders", "tiers": [[2, "120"]]}, "percent"),
        (
            Kind.WIN_BACK,
            {
                "value_kind": "percent",
                "curve": "linear",
                "risk_from": "0.9",
                "risk_to": "0.5",
                "value_from": "1",
                "value_to": "2",
                "risk_threshold": "0.5",
            },
            "risk_to",
        ),
        (Kind.WIN_BACK, {**STEPS, "risk_threshold": None}, "risk_threshold"),
        (Kind.NEXT_ORDER_COUPON, {"value_kind": "fixed", "value": 1.5, "valid_days": 30}, "value"),
        (Kind.STORE_CREDIT, {"accrual_kind": "percent", "value": "5", "expires_days": -1}, "expires_days"),
    ],
)
def test_parameters_that_do_not_fit_the_kind_are_refused_naming_the_field(
    kind: str, raw: dict[str, object], field: str
) -> None:
    with pytest.raises(ParamsError) as error:
        parse_params(kind, raw)
    assert error.value.field == field


def test_parameters_survive_a_round_trip_through_json() -> None:
    params = parse_params(Kind.WIN_BACK, {**LINEAR, "clv_reference": "10000", "cap": "20"})
    assert parse_params(Kind.WIN_BACK, params_to_json(params)) == params


def test_best_is_the_default_stacking() -> None:
    assert tiers_rule().stacking == BEST
