"""Property tests of the engine over random rule sets and carts: whatever the owner configures, a quote never
gives a negative discount, never more than the cart, keeps stacking limits, and its lines add up to it."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.engine.evaluate import BEST, STACK, Cart, CartLine, CodeOffer, Conditions, Facts, Rule, evaluate
from loyalty.engine.params import Kind, parse_params

TODAY = date(2026, 12, 5)

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
percent = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("100"), places=1)


@st.composite
def rules(draw: st.DrawFn, rule_id: int) -> Rule:
    kind = draw(st.sampled_from([Kind.CUMULATIVE, Kind.WIN_BACK, Kind.VIP_PERK]))
    if kind == Kind.CUMULATIVE:
        thresholds = sorted(draw(st.sets(st.integers(0, 30), min_size=1, max_size=4)))
        raw: dict[str, object] = {"basis": "orders", "tiers": [[t, str(draw(percent))] for t in thresholds]}
    elif kind == Kind.WIN_BACK:
        value_kind = draw(st.sampled_from(["percent", "fixed"]))
        value = percent if value_kind == "percent" else money
        raw = {
            "value_kind": value_kind, "curve": "linear", "risk_from": "0.2", "risk_to": "0.9",
            "value_from": str(draw(value)), "value_to": str(draw(value)), "risk_threshold": "0.3",
        }  # fmt: skip
    else:
        raw = {"perk": "free_delivery", "percent": str(draw(st.sampled_from([Decimal("0"), Decimal("5")])))}
    stacking = draw(st.sampled_from([BEST, STACK]))
    limit = draw(st.one_of(st.none(), percent))
    budget = draw(st.one_of(st.none(), st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=2)))
    share = draw(st.sampled_from([Decimal("0"), Decimal("0.1"), Decimal("0.5")]))
    return Rule(
        id=rule_id, kind=kind, params=parse_params(kind, raw), conditions=Conditions(), stacking=stacking,
        max_total_percent=limit, control_share=share, budget_left=budget,
    )  # fmt: skip


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Facts, Cart, list[Rule], list[CodeOffer]]:
    facts = Facts(
        customer_id=draw(st.integers(1, 10**6)),
        delivered_orders=draw(st.integers(0, 40)),
        churn_risk=draw(st.one_of(st.none(), st.floats(0, 1))),
    )
    lines = tuple(CartLine(f"l{i}", amount) for i, amount in enumerate(draw(st.lists(money, max_size=6))))
    cart = Cart(total=draw(money), lines=lines)
    rule_list = [draw(rules(rule_id)) for rule_id in range(1, draw(st.integers(0, 6)) + 1)]
    codes = [
        CodeOffer(f"C{i}", "coupon", kind, draw(percent if kind == "percent" else money))
        for i, kind in enumerate(draw(st.lists(st.sampled_from(["percent", "fixed"]), max_size=2)))
    ]
    return facts, cart, rule_list, codes


@settings(max_examples=400, deadline=None)
@given(scenarios(), st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2))
def test_any_rule_set_gives_a_discount_between_zero_and_the_cart(scenario, balance: Decimal) -> None:  # type: ignore[no-untyped-def]
    facts, cart, rule_list, codes = scenario
    quote = evaluate(facts=facts, cart=cart, rules=rule_list, today=TODAY, codes=codes, balance=balance)
    assert Decimal("0") <= quote.discount <= quote.subtotal
    assert quote.discount == quote.discount.quantize(Decimal("0.01"))
    assert sum((o.amount for o in quote.offers), Decimal("0")) == quote.discount
    assert all(o.amount >= 0 for o in quote.offers)
    assert Decimal("0") <= quote.credit_applied <= min(balance, quote.subtotal - quote.discount)
    assert quote.total == quote.subtotal - quote.discount - quote.credit_applied >= 0


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_stacked_offers_never_pass_the_smallest_stacking_limit(scenario) -> None:  # type: ignore[no-untyped-def]
    facts, cart, rule_list, codes = scenario
    quote = evaluate(facts=facts, cart=cart, rules=rule_list, today=TODAY, codes=codes)
    valued = [o for o in quote.offers if o.amount > 0]
    if len(valued) > 1:
        assert all(o.stacking == STACK for o in valued)
        limits = [o.max_total_percent for o in valued if o.max_total_percent is not None]
        if limits:
            cap = (quote.subtotal * min(limits) / 100).quantize(Decimal("0.01"))
            assert quote.discount <= cap


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_line_discounts_sum_to_the_order_discount_and_stay_within_each_line(scenario) -> None:  # type: ignore[no-untyped-def]
    facts, cart, rule_list, codes = scenario
    quote = evaluate(facts=facts, cart=cart, rules=rule_list, today=TODAY, codes=codes)
    if cart.lines:
        assert sum((amount for _, amount in quote.line_discounts), Decimal("0")) == quote.discount
        for line, (key, amount) in zip(cart.lines, quote.line_discounts, strict=True):
            assert key == line.key
            assert Decimal("0") <= amount <= line.amount


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_the_same_input_always_gives_the_same_quote(scenario) -> None:  # type: ignore[no-untyped-def]
    facts, cart, rule_list, codes = scenario
    first = evaluate(facts=facts, cart=cart, rules=rule_list, today=TODAY, codes=codes)
    assert evaluate(facts=facts, cart=cart, rules=rule_list, today=TODAY, codes=codes) == first
