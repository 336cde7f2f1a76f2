"""Programme effect on the database: who is recorded in each group, the pre-aggregated sums of a small data set
worked out by hand, an A/A rule, and the page.

The small data set (gross margin 50 %, everyone entered on 2026-01-01, today 2026-06-15):
- treated: T1 bought 1,000 on 01-10 with a 100 discount from the rule (margin 0.5 × 1,100 = 550, cost 100, net 450);
  T2 bought 600 on 01-20 and got 50 credit from the rule (margin 300, cost 50, net 250); T3 nothing (0);
  T4 bought 400 on 02-15, outside 30 days (0 in 30 days; margin 200 in 90 days).
- control: C1 bought 500 on 01-05 (margin 250, net 250); C2 and C3 nothing.
"""

import io
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from analytics.effect.sources import rule_exposures_record, rule_key
from analytics.effect.stats import Sample, Verdict, programme_effect
from analytics.models import ExposureGroup, ProgrammeEffect, ProgrammeExposure
from analytics.selectors.effect import programme_results
from analytics.services import aggregates_refresh
from customers.models import Customer
from loyalty.engine.evaluate import in_control_group
from loyalty.models import EntryKind, LedgerEntry, LoyaltyAccount, LoyaltyRule, Purpose, Redemption, RedemptionOffer
from orders.models import Order, OrderStatus
from shop.models import ShopSettings
from shop.roles import Role
from tests.analytics.test_effect_stats import order_totals
from tests.factories import CustomerFactory, CustomerScoreFactory, LoyaltyRuleFactory, OrderFactory

pytestmark = pytest.mark.django_db
TODAY = datetime(2026, 6, 15, 9, tzinfo=UTC)
ENTERED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"2026-{day}T12:00:00+00:00")


def _order(customer: Customer, day: str, total: str) -> None:
    amount = Decimal(total)
    OrderFactory.create(
        customer=customer, placed_at=_at(day), status=OrderStatus.DELIVERED, total=amount, subtotal=amount
    )


def _discount(rule: LoyaltyRule, customer: Customer, day: str, amount: str) -> None:
    redemption = Redemption.objects.create(
        idempotency_key=f"test-{customer.pk}-{day}", customer=customer, order_source="shop",
        order_external_id=f"{customer.pk}-{day}", subtotal=Decimal("1100"), discount=Decimal(amount),
        credit_spent=Decimal("0"), total=Decimal("1000"), created_at=_at(day),
    )  # fmt: skip
    RedemptionOffer.objects.create(redemption=redemption, rule=rule, kind=rule.kind, amount=Decimal(amount))


def _credit(rule: LoyaltyRule, customer: Customer, day: str, amount: str) -> None:
    value = Decimal(amount)
    LoyaltyAccount.objects.get_or_create(customer=customer)  # the ledger takes rows only for a customer with one
    LedgerEntry.objects.create(
        customer=customer, kind=EntryKind.ACCRUAL, purpose=Purpose.STORE_CREDIT, amount=value, balance_after=value,
        remaining=value, rule=rule, created_at=_at(day),
    )  # fmt: skip


def _enter(rule: LoyaltyRule, customer: Customer, group: str) -> None:
    ProgrammeExposure.objects.create(programme=rule_key(rule.pk), customer_id=customer.pk, group=group, since=ENTERED)


def small_programme() -> LoyaltyRule:
    shop = ShopSettings.load()
    shop.gross_margin_percent = Decimal("50")
    shop.save()
    rule = LoyaltyRuleFactory.create(name="Win-back", control_share=Decimal("0.2"), is_active=False)
    t1, t2, t3, t4, c1, c2, c3 = CustomerFactory.create_batch(7)
    for customer in (t1, t2, t3, t4):
        _enter(rule, customer, ExposureGroup.TREATED)
    for customer in (c1, c2, c3):
        _enter(rule, customer, ExposureGroup.CONTROL)
    _order(t1, "01-10", "1000.00")
    _discount(rule, t1, "01-10", "100.00")
    _order(t2, "01-20", "600.00")
    _credit(rule, t2, "01-20", "50.00")
    _order(t4, "02-15", "400.00")
    _order(c1, "01-05", "500.00")
    return rule


def test_the_refresh_sums_each_group_over_each_window_as_worked_out_by_hand():
    rule = small_programme()
    aggregates_refresh()
    rows = {
        (row.window_days, row.group): (
            row.customers, row.buyers, row.orders, row.margin, row.cost, row.net, row.net_squares
        )
        for row in ProgrammeEffect.objects.filter(programme=rule_key(rule.pk))
    }  # fmt: skip
    # 450² + 250² = 265,000; 250² = 62,500.
    cubes = {
        (row.window_days, row.group): (row.net_cubes, row.net_fourths)
        for row in ProgrammeEffect.objects.filter(programme=rule_key(rule.pk), window_days=30)
    }
    # 450³ + 250³ = 91,125,000 + 15,625,000 = 106,750,000; 450⁴ + 250⁴ = 41,006,250,000 + 3,906,250,000.
    assert cubes[(30, "treated")] == (Decimal("106750000"), Decimal("44912500000"))
    assert cubes[(30, "control")] == (Decimal("15625000"), Decimal("3906250000"))
    assert rows[(30, "treated")] == (
        4,
        2,
        2,
        Decimal("850.00"),
        Decimal("150.00"),
        Decimal("700.00"),
        Decimal("265000"),
    )
    assert rows[(30, "control")] == (3, 1, 1, Decimal("250.00"), Decimal("0.00"), Decimal("250.00"), Decimal("62500"))
    # In 90 days T4's 400 counts: margin 200, net 200 (+ 40,000 to the squares).
    assert rows[(90, "treated")] == (
        4,
        3,
        3,
        Decimal("1050.00"),
        Decimal("150.00"),
        Decimal("900.00"),
        Decimal("305000"),
    )
    # 06-15 is 165 days after 01-01: nobody has had 180 or 365 days yet.
    assert rows[(180, "treated")][0] == 0
    assert rows[(365, "control")][0] == 0


def test_the_page_shows_the_uplift_with_its_interval():
    small_programme()
    aggregates_refresh()
    (result,) = programme_results(window_days=30)
    # Nets per customer: treated 175.00, control 83.33; difference 91.67, interval from 91.67 − 372.45 to
    # 91.67 + 353.07 (see test_effect_stats for the hand computation of the interval on the same figures).
    assert result.treated.net_per_customer == Decimal("175.00")
    assert result.control.net_per_customer == Decimal("83.33")
    assert result.incremental == Decimal("91.67")
    assert result.low == Decimal("-280.78")
    assert result.high == Decimal("444.73")
    assert result.treated.repeat_rate == 50.0
    assert result.treated.cost_per_customer == Decimal("37.50")
    # A control group of three: not enough data, with the customers still needed.
    assert result.verdict == Verdict.NOT_ENOUGH_DATA
    assert result.more_needed is not None and result.more_needed >= 27


def test_recording_puts_each_eligible_customer_in_the_group_the_engine_holds_out_once():
    rule = LoyaltyRuleFactory.create(control_share=Decimal("0.5"))
    customers = CustomerFactory.create_batch(30)
    for customer in customers:
        CustomerScoreFactory.create(customer=customer)
    assert rule_exposures_record(rule, now=TODAY) == 30
    groups = dict(ProgrammeExposure.objects.values_list("customer_id", "group"))
    for customer in customers:
        held_out = in_control_group(rule.pk, customer.pk, Decimal("0.5"))
        assert groups[customer.pk] == (ExposureGroup.CONTROL if held_out else ExposureGroup.TREATED)
    assert set(groups.values()) == {ExposureGroup.CONTROL, ExposureGroup.TREATED}
    # The first recording dates the customers at the rule's start; a second one adds nobody.
    assert set(ProgrammeExposure.objects.values_list("since", flat=True)) == {rule.created_at}
    assert rule_exposures_record(rule, now=TODAY + timedelta(days=1)) == 0


# What one customer buys in January, the same ten patterns dealt in turn to the customers of each group.
PATTERNS = [[], [], [], [], ["900.00"], ["1500.00"], ["2500.00"], ["600.00", "1200.00"], [], ["3000.00", "700.00"]]


def test_a_rule_whose_groups_got_the_same_thing_shows_no_effect():
    """An A/A rule on the database: 300 customers split by the engine's hash; the rule gives nothing, and each
    group's customers buy the same things (the same patterns dealt in turn, so the result does not hang on which ids
    the hash happens to hold out): the interval holds zero and there is no verdict either way."""
    rule = LoyaltyRuleFactory.create(control_share=Decimal("0.3"), created_at=ENTERED)
    for customer in CustomerFactory.create_batch(300):
        CustomerScoreFactory.create(customer=customer)
    with time_machine.travel(ENTERED, tick=False):
        rule_exposures_record(rule, now=ENTERED)
    for group in (ExposureGroup.TREATED, ExposureGroup.CONTROL):
        ids = (
            ProgrammeExposure.objects.filter(group=group).order_by("customer_id").values_list("customer_id", flat=True)
        )
        for index, customer in enumerate(Customer.objects.filter(pk__in=list(ids)).order_by("pk")):
            for day, total in enumerate(PATTERNS[index % len(PATTERNS)], start=10):
                _order(customer, f"01-{day}", total)
    aggregates_refresh()
    (result,) = programme_results(window_days=30)
    assert result.control.customers > 60 and result.treated.customers > 150
    assert result.treated.cost == Decimal("0")
    assert result.low is not None and result.high is not None
    assert result.low < 0 < result.high
    assert result.verdict == Verdict.NOT_ENOUGH_DATA


# A/A rules on the database, each splitting the same customers by the engine's hash (a 20 % control share) and
# giving nothing. The false-positive rate of the interval is asserted on 3,000 runs in test_effect_stats; a run here
# costs the refresh five hundred exposures, so 2,000 runs would take minutes. What the database adds is the
# nightly path: for each rule the refresh must hand the statistics exactly the sample of its customers' net values,
# so that the verdicts on the page are the simulation's.
A_A_RULES = 40
A_A_CUSTOMERS = 500


def _a_a_exposures(rules: list[LoyaltyRule], customers: list[Customer]) -> dict[int, dict[int, str]]:
    groups: dict[int, dict[int, str]] = {}
    rows = io.StringIO()
    for rule in rules:
        groups[rule.pk] = {}
        for customer in customers:
            held_out = in_control_group(rule.pk, customer.pk, rule.control_share)
            group = ExposureGroup.CONTROL if held_out else ExposureGroup.TREATED
            groups[rule.pk][customer.pk] = group
            rows.write(f"{rule_key(rule.pk)}\t{customer.pk}\t{group}\t{ENTERED.isoformat()}\n")
    rows.seek(0)
    table = ProgrammeExposure._meta.db_table
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f'COPY {table} (programme, customer_id, "group", since) FROM STDIN', rows)
    return groups


def _a_a_shop() -> tuple[list[LoyaltyRule], dict[int, dict[int, str]], dict[int, float]]:
    """The rules, each one's groups, and each customer's net value over 30 days (35 % of January's orders)."""
    shop = ShopSettings.load()
    shop.gross_margin_percent = Decimal("35")
    shop.save()
    rng = random.Random(20261206)
    customers = Customer.objects.bulk_create(
        [Customer(name=f"A/A {index}", city="Москва") for index in range(A_A_CUSTOMERS)]
    )
    # The refresh rounds each customer's margin to the cent half away from zero, as PostgreSQL's ROUND does.
    nets, orders = {}, []
    for customer in customers:
        amounts = [Decimal(str(round(total, 2))) for total in order_totals(rng)]
        nets[customer.pk] = float(
            (Decimal("0.35") * sum(amounts, Decimal("0"))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        )
        orders += [
            Order(source="a-a", external_id=f"{customer.pk}-{day}", customer=customer, placed_at=_at(f"01-{day}"),
                  status=OrderStatus.DELIVERED, total=amount, subtotal=amount)
            for day, amount in enumerate(amounts, start=10)
        ]  # fmt: skip
    Order.objects.bulk_create(orders)
    rules = LoyaltyRule.objects.bulk_create(
        [
            LoyaltyRule(name=f"A/A {index:04d}", kind="store_credit", params={}, is_active=False,
                        control_share=Decimal("0.2"), created_at=ENTERED)
            for index in range(A_A_RULES)
        ]
    )  # fmt: skip
    return rules, _a_a_exposures(rules, customers), nets


def test_the_refresh_gives_each_a_a_rule_the_statistics_of_its_customers_net_values():
    rules, groups, nets = _a_a_shop()
    aggregates_refresh()
    results = {result.key: result for result in programme_results(window_days=30)}
    assert len(results) == A_A_RULES
    for rule in rules:
        split = groups[rule.pk]
        treated = Sample.of([nets[pk] for pk, group in split.items() if group == ExposureGroup.TREATED])
        control = Sample.of([nets[pk] for pk, group in split.items() if group == ExposureGroup.CONTROL])
        expected = programme_effect(treated, control)
        result = results[rule_key(rule.pk)]
        assert result.treated.cost == Decimal("0")
        assert result.effect.difference == pytest.approx(expected.difference, abs=1e-6)
        # Σ net³ and Σ net⁴ come back through floating point: the bounds agree to well within a cent.
        assert (result.effect.low, result.effect.high) == pytest.approx((expected.low, expected.high), abs=0.001)
        assert result.verdict == expected.verdict


def test_the_programme_page_exports_both_groups(client_for: Callable[[str | None], Client]):
    small_programme()
    aggregates_refresh()
    client = client_for(Role.MANAGER)
    page = client.get(reverse("analytics:effect"), {"window": "30"})
    assert page.status_code == 200
    assert b'data-verdict="not_enough_data"' in page.content
    export = client.get(reverse("analytics:effect"), {"window": "30", "export": "effect"})
    lines = b"".join(export.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 3
    # The manager reads Russian: the spreadsheet's separator is ";".
    assert lines[1].startswith("Win-back;")
    assert ";4;50.0;0.5;212.50;37.50;175.00;91.67;-280.78;444.73;" in lines[1]
    assert ";3;33.3;0.33;83.33;0.00;83.33;91.67;" in lines[2]
    assert client_for(Role.OPERATOR).get(reverse("analytics:effect")).status_code == 403


def test_each_programme_counts_only_its_own_costs_for_a_customer_in_two():
    rule = small_programme()
    other = LoyaltyRuleFactory.create(name="VIP perk", control_share=Decimal("0.1"), is_active=False)
    t1 = ProgrammeExposure.objects.filter(programme=rule_key(rule.pk)).order_by("customer_id").first()
    assert t1 is not None
    ProgrammeExposure.objects.create(
        programme=rule_key(other.pk), customer_id=t1.customer_id, group=ExposureGroup.CONTROL, since=ENTERED
    )
    aggregates_refresh()
    first = ProgrammeEffect.objects.get(programme=rule_key(rule.pk), window_days=30, group="treated")
    assert (first.customers, first.net) == (4, Decimal("700.00"))
    # In the VIP perk's control group T1's 1,000 earns 500 of margin; the win-back's 100 discount is not its cost
    # and is not added back to its price.
    second = ProgrammeEffect.objects.get(programme=rule_key(other.pk), window_days=30, group="control")
    assert (second.customers, second.margin, second.cost) == (1, Decimal("500.00"), Decimal("0.00"))
    assert [result.name for result in programme_results(window_days=30)] == ["VIP perk", "Win-back"]


def test_each_customer_margin_is_rounded_to_the_cent_half_away_from_zero():
    """At a 33.33 % margin, 50.00 earns 16.665 and 150.00 earns 49.995: each customer's margin is rounded to the
    cent half away from zero (16.67, 50.00) before the group sums, and 0.03 earns 0.009999, rounded to 0.01. A
    customer given 50.00 of credit without buying has a net of -50.00, whose cube is negative."""
    shop = ShopSettings.load()
    shop.gross_margin_percent = Decimal("33.33")
    shop.save()
    rule = LoyaltyRuleFactory.create(name="Rounding", control_share=Decimal("0.2"), is_active=False)
    fifty, hundred_fifty, three_kopecks, credited = CustomerFactory.create_batch(4)
    for customer in (fifty, hundred_fifty, three_kopecks, credited):
        _enter(rule, customer, ExposureGroup.TREATED)
    _order(fifty, "01-10", "50.00")
    _order(hundred_fifty, "01-10", "150.00")
    _order(three_kopecks, "01-10", "0.03")
    _credit(rule, credited, "01-10", "50.00")
    aggregates_refresh()
    row = ProgrammeEffect.objects.get(programme=rule_key(rule.pk), window_days=30, group="treated")
    nets = [Decimal("16.67"), Decimal("50.00"), Decimal("0.01"), Decimal("-50.00")]
    assert (row.margin, row.cost, row.net) == (Decimal("66.68"), Decimal("50.00"), Decimal("16.68"))
    assert row.net_cubes is not None and row.net_fourths is not None
    assert float(row.net_squares) == pytest.approx(float(sum(net**2 for net in nets)), abs=1e-6)
    assert float(row.net_cubes) == pytest.approx(float(sum(net**3 for net in nets)), abs=1e-4)
    assert float(row.net_fourths) == pytest.approx(float(sum(net**4 for net in nets)), abs=1e-2)
