"""A weeknight's programme effects, kept up to date by difference, equal a full recompute on the same data: after new,
changed, returned and moved orders, new and reversed costs, new exposures, a merge and windows that closed.

The programme is ``test_effect``'s small one (everyone entered on 2026-01-01; a full rewrite on 2026-06-15)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from analytics.effect.sources import rule_key
from analytics.models import ExposureGroup, ProgrammeEffect, ProgrammeExposure
from analytics.services import aggregates_refresh
from customers.merging import customer_merge
from customers.models import Customer
from loyalty.models import EntryKind, LedgerEntry, LoyaltyRule, Redemption, RedemptionState
from orders.models import Order, OrderStatus
from orders.services import order_change_status
from shop.models import ShopSettings
from tests.analytics.test_effect import ENTERED, _credit, _discount, _enter, _order, small_programme
from tests.factories import CustomerFactory, LoyaltyRuleFactory, make_owner

pytestmark = pytest.mark.django_db
# The data set is written days before the first (full) refresh, so a weeknight finds only what changed after it.
WRITTEN = datetime(2026, 6, 10, 9, tzinfo=UTC)
FIRST = datetime(2026, 6, 15, 9, tzinfo=UTC)
LATER = datetime(2026, 7, 1, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _written() -> Iterator[None]:
    with time_machine.travel(WRITTEN, tick=False):
        yield


def _full_rewrite() -> None:
    with time_machine.travel(FIRST, tick=False):
        aggregates_refresh(full=True)


def _effects() -> list[tuple[Any, ...]]:
    return list(
        ProgrammeEffect.objects.order_by("programme", "window_days", "group").values_list(
            "programme", "window_days", "group", "customers", "buyers", "orders", "margin", "cost", "net",
            "net_squares", "net_cubes", "net_fourths", "first_since",
        )
    )  # fmt: skip


def _customers(rule: LoyaltyRule) -> dict[str, Customer]:
    """T1…T4 and C1…C3 of the small programme, in the order it created them."""
    exposed = ProgrammeExposure.objects.filter(programme=rule_key(rule.pk)).order_by("customer_id")
    treated = [row.customer_id for row in exposed if row.group == ExposureGroup.TREATED]
    control = [row.customer_id for row in exposed if row.group == ExposureGroup.CONTROL]
    names = [f"t{n}" for n in range(1, 5)] + [f"c{n}" for n in range(1, 4)]
    return {name: Customer.objects.get(pk=pk) for name, pk in zip(names, treated + control, strict=True)}


def _changes(rule: LoyaltyRule, people: dict[str, Customer]) -> None:
    """A few days of a shop's life after the full rewrite, one change a customer, each through the code that does
    it in production where there is one."""
    # T1's January order is returned (placed long before: a year's orders count, not only the last weeks').
    order_change_status(order=Order.objects.get(customer=people["t1"]), status=OrderStatus.RETURNED)
    # T2's credit is reversed; T3's checkout discount (given before the full rewrite) is reversed.
    accrual = LedgerEntry.objects.get(customer=people["t2"])
    LedgerEntry.objects.create(
        customer=people["t2"], kind=EntryKind.REVERSAL, purpose=accrual.purpose, amount=-accrual.amount,
        balance_after=Decimal("0"), source_entry=accrual,
    )  # fmt: skip
    Redemption.objects.filter(customer=people["t3"]).update(state=RedemptionState.REVERSED)
    # T4 is merged into a customer outside the programme: T4's February order moves out.
    owner = make_owner()
    customer_merge(survivor=CustomerFactory.create(), duplicate=people["t4"], user=owner)
    # C1's order is corrected to a larger amount; C2's order of 01-20 arrives late; a duplicate of C3 who bought 100
    # on 01-15 is merged into C3 (the order moves in).
    corrected = Order.objects.get(customer=people["c1"])
    corrected.total = corrected.subtotal = Decimal("800.00")
    corrected.save()
    _order(people["c2"], "01-20", "200.00")
    duplicate = CustomerFactory.create()
    _order(duplicate, "01-15", "100.00")
    customer_merge(survivor=people["c3"], duplicate=duplicate, user=owner)
    # A newcomer enters (and buys nothing).
    ProgrammeExposure.objects.create(
        programme=rule_key(rule.pk), customer_id=CustomerFactory.create().pk, group=ExposureGroup.TREATED,
        since=timezone.now(),
    )  # fmt: skip


def _weeknight_and_full(moment: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The figures of a weeknight refresh at ``moment``, and those of a full recompute right after it (rolled back,
    so the next weeknight still adds to the first one)."""
    with time_machine.travel(moment, tick=False):
        weeknight = aggregates_refresh(full=False)
        assert "effects_recent" in weeknight.timings
        incremental = _effects()
        with transaction.atomic():
            aggregates_refresh(full=True)
            full = _effects()
            transaction.set_rollback(True)
    return incremental, full


def test_weeknights_after_a_week_of_changes_equal_a_full_recompute():
    rule = small_programme()
    people = _customers(rule)
    _discount(rule, people["t3"], "01-12", "30.00")
    _full_rewrite()
    before = _effects()
    with time_machine.travel(datetime(2026, 6, 18, 9, tzinfo=UTC), tick=False):
        _changes(rule, people)
    # No window closes between 06-15 and 06-20: only what changed is reread.
    incremental, full = _weeknight_and_full(datetime(2026, 6, 20, 9, tzinfo=UTC))
    assert incremental == full
    assert incremental != before
    with time_machine.travel(datetime(2026, 6, 25, 9, tzinfo=UTC), tick=False):
        _credit(rule, people["t1"], "01-20", "20.00")
    # The 180-day window of everyone who entered on 01-01 closes on 06-30.
    incremental, full = _weeknight_and_full(LATER)
    assert incremental == full
    # 30 days, treated: T1 earns half the 100 discount (its order returned) and costs it and 20 of credit; T2's 600
    # earns 300 and its credit is reversed; T3's discount is reversed. Control: C1 400, C2 100, C3 50. In 90 days
    # T4's order has moved out. The 180-day window counts the four of January now, not the newcomer.
    rows = {(row[1], row[2]): row for row in full if row[0] == rule_key(rule.pk)}
    assert rows[(30, "treated")][6:8] == (Decimal("350.00"), Decimal("120.00"))
    assert rows[(30, "control")][6] == Decimal("550.00")
    assert rows[(90, "treated")][6] == Decimal("350.00")
    assert rows[(180, "treated")][3] == 4
    # The newcomer's 30 days have passed on 07-20: a fifth treated customer, who bought nothing.
    incremental, full = _weeknight_and_full(datetime(2026, 7, 20, 9, tzinfo=UTC))
    assert incremental == full
    assert [row[3:7] for row in full if row[1:3] == (30, "treated")] == [(5, 1, 1, Decimal("350.00"))]


def test_a_weeknight_with_nothing_new_changes_nothing_and_a_change_of_margin_recomputes_everything():
    rule = small_programme()
    _full_rewrite()
    before = _effects()
    with time_machine.travel(datetime(2026, 6, 16, 9, tzinfo=UTC), tick=False):
        aggregates_refresh(full=False)
        assert _effects() == before
        shop = ShopSettings.load()
        shop.gross_margin_percent = Decimal("40")
        shop.save()
        aggregates_refresh(full=False)
    treated = ProgrammeEffect.objects.get(programme=rule_key(rule.pk), window_days=30, group="treated")
    # 0.4 × 1,100 + 0.4 × 600 = 680.
    assert treated.margin == Decimal("680.00")


def test_a_new_programme_is_measured_on_its_first_weeknight():
    small_programme()
    _full_rewrite()
    other = LoyaltyRuleFactory.create(name="VIP perk", control_share=Decimal("0.1"), is_active=False)
    customer = CustomerFactory.create()
    _order(customer, "01-10", "200.00")
    _enter(other, customer, ExposureGroup.CONTROL)
    with time_machine.travel(datetime(2026, 6, 16, 9, tzinfo=UTC), tick=False):
        aggregates_refresh(full=False)
    row = ProgrammeEffect.objects.get(programme=rule_key(other.pk), window_days=30, group="control")
    assert (row.customers, row.margin, row.first_since) == (1, Decimal("100.00"), ENTERED)
