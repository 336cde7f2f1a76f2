"""The demo's loyalty history (``manage.py seed_loyalty``): a believable loyalty programme with a history on the demo shop.

The owner's six programmes (cumulative tiers, a win-back offer with a control group, store credit on delivery, a
next-order coupon, referrals, a spring promo campaign with its codes), then the last months replayed in time order
through the live services: every delivery accrues what the rules give (credit, coupons), some later orders are
checked out with a coupon or credit (``loyalty_redeem``), credit past its date expires as the nightly run would, one
delivered order comes back and is reversed, a new customer arrives with a friend's referral code, and the owner
posts an adjustment. The services stamp rows with the moment they ran; one set-based UPDATE per table then dates
accruals, spends and coupons at the delivery or checkout they belong to, so the card's timeline reads as history.
"""

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from customers.models import Customer
from customers.services import CustomerData
from loyalty.engine.evaluate import Cart
from loyalty.errors import LoyaltyError
from loyalty.models import Coupon, EntryKind, LedgerEntry, Purpose, Redemption
from loyalty.services import (
    credit_adjust,
    credit_expire_due,
    loyalty_accrue_for_orders,
    loyalty_quote,
    loyalty_redeem,
    loyalty_reverse_for_orders,
    promo_batch_generate,
    referral_code_for,
    rule_create,
)
from orders.models import ChangeOrigin, Order, OrderStatus
from orders.services import OrderData, order_change_status, order_upsert
from shop.models import User
from shop.roles import Capability, Role

DEMO_OWNER = "owner"
# Share of the window's repeat orders checked out through loyalty (a coupon or credit applied at the till).
CHECKOUT_SHARE = 0.35
PROMO_CODES = 200
# Share of checkouts without a coupon that bring a code from the spring mailing.
PROMO_SHARE = 0.15

RULES: list[dict[str, Any]] = [
    {
        "name": "Накопительная скидка",
        "kind": "cumulative",
        "params": {"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]},
        "stacking": "stack",
        "max_total_percent": Decimal("20"),
    },
    {
        "name": "Возвращаем уходящих",
        "kind": "win_back",
        "params": {
            "value_kind": "percent",
            "curve": "linear",
            "risk_from": "0.5",
            "risk_to": "0.9",
            "value_from": "5",
            "value_to": "20",
            "risk_threshold": "0.5",
            "days_threshold": None,
            "clv_reference": None,
            "cap": "20",
        },
        "control_share": Decimal("0.2"),
        "budget_cap": Decimal("150000"),
    },
    {
        "name": "Бонусы за покупки",
        "kind": "store_credit",
        "params": {"accrual_kind": "percent", "value": "5", "expires_days": 30, "max_share_percent": "30"},
        "stacking": "stack",
        "max_total_percent": Decimal("40"),
    },
    {
        "name": "Купон на следующий заказ",
        "kind": "next_order_coupon",
        "params": {"value_kind": "fixed", "value": "300", "valid_days": 30, "min_order": "1500"},
        "order_kind": "repeat",
    },
    {
        "name": "Приведи друга",
        "kind": "referral",
        "params": {"referrer_amount": "500", "referee_amount": "300", "referee_percent": "10", "expires_days": 180},
    },
    {
        "name": "Весенняя распродажа",
        "kind": "promo_batch",
        "params": {"value_kind": "percent", "value": "15"},
        "budget_cap": Decimal("50000"),
    },
]


@dataclass
class _Run:
    owner: User
    rng: random.Random
    now: datetime
    totals: Counter[str]
    promo_codes: list[str] = field(default_factory=list)


def loyalty_seed(*, days: int, members: int, seed: int | None) -> str:
    """The owner's programmes, then the last ``days`` days replayed for ``members`` sampled customers; returns
    the summary line. Needs an owner account (CommandError otherwise)."""
    owner = _owner()
    started = time.monotonic()
    run = _Run(owner=owner, rng=random.Random(seed), now=timezone.now(), totals=Counter())
    rules = {spec["kind"]: rule_create(user=owner, is_active=True, **spec) for spec in RULES}
    batch = promo_batch_generate(
        user=owner, rule=rules["promo_batch"], name="Весна — рассылка", count=PROMO_CODES, prefix="SPRING",
        uses_per_code=1, uses_per_customer=1, valid_until=run.now + timedelta(days=45),
    )  # fmt: skip
    run.promo_codes = list(batch.codes.order_by("code").values_list("code", flat=True))
    _replay(run, run.now - timedelta(days=days), members)
    _return_one(run)
    _referral(run)
    _adjust(run)
    _date_rows()
    t = run.totals
    return (
        f"Seeded {len(rules)} loyalty rules, {PROMO_CODES} promo codes ({batch.name}); replayed "
        f"{t['deliveries']:,} deliveries and {t['checkouts']:,} checkouts ({t['codes_used']:,} with a coupon or promo code, "
        f"{t['credit_spends']:,} credit spends), {t['expired']:,} expired lots, {t['returns']} return, "
        f"{t['referrals']} referral, {t['adjustments']} adjustment in {time.monotonic() - started:.1f} s."
    )


def _owner() -> User:
    """The demo's owner account, else the first active owner: the rules and adjustments are theirs."""
    demo = User.objects.filter(username=DEMO_OWNER, is_active=True).first()
    if demo is not None and demo.can(Capability.CONFIGURE):
        return demo
    owner = User.objects.filter(is_active=True, groups__name=Role.OWNER).order_by("pk").first()
    if owner is None:
        raise CommandError("No owner account: run `manage.py create_demo_users` first.")
    return owner


def _replay(run: _Run, since: datetime, members: int) -> None:
    """Deliveries and checkouts of the window in time order, with the nightly expiry run at each day's end.

    Each delivery goes through the live accrual (a dozen queries under the customer's account lock), so the replay
    takes a random sample of the window's buyers: enough history for every page, in seconds on the demo shop."""
    window = Order.objects.filter(status=OrderStatus.DELIVERED, delivered_at__gte=since, delivered_at__lte=run.now)
    buyers = sorted(set(window.values_list("customer_id", flat=True)))
    sample = sorted(run.rng.sample(buyers, min(members, len(buyers))))
    delivered = list(
        window.filter(customer_id__in=sample)
        .order_by("delivered_at", "pk")
        .values_list("pk", "customer_id", "placed_at", "delivered_at", "total", "source", "external_id")
    )
    first_delivery: dict[int, datetime] = {}
    events: list[tuple[datetime, int, tuple[Any, ...]]] = []
    for row in delivered:
        _pk, customer_id, placed_at, delivered_at = row[:4]
        assert delivered_at is not None  # the window's filter
        events.append((delivered_at, 1, row))
        earlier = first_delivery.setdefault(customer_id, delivered_at)
        # A later order of someone who already earned in the window: sometimes checked out through loyalty.
        if earlier < placed_at and run.rng.random() < CHECKOUT_SHARE:
            events.append((placed_at, 0, row))
    events.sort(key=lambda event: (event[0], event[1], event[2][0]))
    next_expiry = since + timedelta(days=1)
    for moment, kind, row in events:
        while next_expiry < moment:
            run.totals["expired"] += credit_expire_due(now=next_expiry)
            next_expiry += timedelta(days=1)
        if kind == 1:
            loyalty_accrue_for_orders(order_ids=[row[0]], now=moment)
            run.totals["deliveries"] += 1
        else:
            _checkout(run, row, moment)
    run.totals["expired"] += credit_expire_due(now=run.now)


def _checkout(run: _Run, row: tuple[Any, ...], moment: datetime) -> None:
    """The order's checkout as the shop's site would have made it: the customer's live coupon if any, and the
    credit the quote allows (about half of the customers use it)."""
    pk, customer_id, _placed, _delivered, total, source, external_id = row
    customer = Customer.objects.get(pk=customer_id)
    coupon = (
        Coupon.objects.filter(customer_id=customer_id, used_at__isnull=True, revoked_at__isnull=True)
        .filter(valid_until__gt=moment)
        .exclude(issued_for_order_id=pk)
        .order_by("valid_until")
        .first()
    )
    cart = Cart(total=total)
    code = coupon.code if coupon is not None and coupon.min_order is not None and total >= coupon.min_order else ""
    if not code and run.promo_codes and run.rng.random() < PROMO_SHARE:
        code = run.promo_codes.pop()  # the spring mailing's code, one customer each
    try:
        quote = loyalty_quote(customer=customer, cart=cart, code=code, now=moment).quote
        credit = quote.credit_available if run.rng.random() < 0.5 else Decimal("0")
        if not quote.offers and credit <= 0:
            return
        loyalty_redeem(
            customer=customer, cart=cart, order_source=source, order_external_id=external_id,
            idempotency_key=f"demo-loyalty-{pk}", code=code, credit=credit, now=moment,
        )  # fmt: skip
    except LoyaltyError:
        return
    run.totals["checkouts"] += 1
    run.totals["codes_used"] += bool(code)
    run.totals["credit_spends"] += credit > 0


def _return_one(run: _Run) -> None:
    """The most recent delivery that earned credit comes back a few days later: what it earned is reversed."""
    lot = (
        LedgerEntry.objects.filter(kind=EntryKind.ACCRUAL, purpose=Purpose.STORE_CREDIT, remaining__gt=0)
        .select_related("order")
        .order_by("-order__delivered_at")
        .first()
    )
    if lot is None or lot.order is None:
        return
    order = lot.order
    moment = min((order.delivered_at or run.now) + timedelta(days=3), run.now)
    # One transaction: the order's own signal reaches loyalty after this commit and finds the reversal done.
    with transaction.atomic():
        order_change_status(
            order=order, status=OrderStatus.RETURNED, origin=ChangeOrigin.DEMO, user=run.owner, at=moment
        )
        loyalty_reverse_for_orders(order_ids=[order.pk], now=moment)
    run.totals["returns"] += 1


def _referral(run: _Run) -> None:
    """A loyal customer's friend orders for the first time with the friend's code; the delivery rewards both."""
    referrer = (
        Customer.objects.filter(merged_into__isnull=True, orders_count__gte=3).order_by("-last_order_at", "pk").first()
    )
    if referrer is None:
        return
    code = referral_code_for(referrer.pk).code
    placed = run.now - timedelta(days=12)
    phone = f"+7999{run.rng.randrange(10**7):07d}"
    data = OrderData(
        source="web", external_id=f"demo-referral-{phone[-7:]}", placed_at=placed, total=Decimal("3200.00"),
        customer=CustomerData(source="web", name="Алина Кузнецова", phones=(phone,)),
    )  # fmt: skip
    result = order_upsert(data=data, origin=ChangeOrigin.DEMO)
    assert result.order_id is not None
    order = Order.objects.select_related("customer").get(pk=result.order_id)
    try:
        loyalty_redeem(
            customer=order.customer, cart=Cart(total=order.total), order_source=order.source,
            order_external_id=order.external_id, idempotency_key=f"demo-referral-{order.pk}", code=code, now=placed,
        )  # fmt: skip
    except LoyaltyError:
        return
    delivered = placed + timedelta(days=3)
    with transaction.atomic():
        order_change_status(order=order, status=OrderStatus.DELIVERED, origin=ChangeOrigin.DEMO, at=delivered)
        loyalty_accrue_for_orders(order_ids=[order.pk], now=delivered)
    run.totals["referrals"] += 1


def _adjust(run: _Run) -> None:
    """The owner's goodwill credit after a complaint about a late delivery."""
    customer = Customer.objects.filter(merged_into__isnull=True, orders_count__gte=2).order_by("-total_spent").first()
    if customer is None:
        return
    credit_adjust(
        customer_id=customer.pk, amount=Decimal("500.00"), user=run.owner,
        reason="Извинение за опоздание курьера (жалоба по телефону)", expires_at=run.now + timedelta(days=60),
    )  # fmt: skip
    run.totals["adjustments"] += 1


def _date_rows() -> None:
    """Accruals at their delivery, spends at their checkout, coupons at the delivery that issued them."""
    delivered_at = Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("delivered_at")[:1])
    LedgerEntry.objects.filter(kind=EntryKind.ACCRUAL, order__isnull=False).update(created_at=delivered_at)
    checkout_at = Subquery(Redemption.objects.filter(pk=OuterRef("redemption_id")).values("created_at")[:1])
    LedgerEntry.objects.filter(kind=EntryKind.SPEND, redemption__isnull=False).update(created_at=checkout_at)
    issued_at = Subquery(Order.objects.filter(pk=OuterRef("issued_for_order_id")).values("delivered_at")[:1])
    Coupon.objects.filter(issued_for_order__isnull=False).update(created_at=issued_at)
