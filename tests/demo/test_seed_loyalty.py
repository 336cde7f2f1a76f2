"""``manage.py seed_loyalty`` on a small seeded shop: the programme, its history through the services, and
``--if-empty``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from loyalty.models import (
    Coupon,
    EntryKind,
    LedgerEntry,
    LoyaltyAccount,
    LoyaltyRule,
    PromoCode,
    Redemption,
    ReferralUse,
)
from tests.factories import make_owner
from tests.scoring.runs import seed_shop

pytestmark = pytest.mark.django_db


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_loyalty", seed=7, stdout=out, **options)
    return out.getvalue()


def test_the_demo_programme_has_every_kind_of_rule_and_a_history() -> None:
    seed_shop(customers=150, seed=21)
    make_owner()
    seed()
    kinds = set(LoyaltyRule.objects.values_list("kind", flat=True))
    assert {"cumulative", "win_back", "store_credit", "next_order_coupon", "referral", "promo_batch"} <= kinds
    assert LoyaltyRule.objects.get(kind="win_back").control_share > 0
    assert PromoCode.objects.count() == 200
    ledger_kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {
        EntryKind.ACCRUAL,
        EntryKind.SPEND,
        EntryKind.EXPIRY,
        EntryKind.REVERSAL,
        EntryKind.ADJUSTMENT,
    } <= ledger_kinds
    assert Coupon.objects.filter(used_at__isnull=False).exists()
    assert Redemption.objects.exists()
    assert ReferralUse.objects.filter(rewarded_at__isnull=False).count() == 1


def test_every_balance_is_the_sum_of_its_ledger_and_never_negative() -> None:
    seed_shop(customers=150, seed=21)
    make_owner()
    seed()
    for account in LoyaltyAccount.objects.all():
        entries = LedgerEntry.objects.filter(customer_id=account.pk)
        assert account.balance == sum(entry.amount for entry in entries)
        assert account.balance >= 0


def test_accruals_are_dated_at_their_delivery() -> None:
    seed_shop(customers=150, seed=21)
    make_owner()
    seed()
    entry = LedgerEntry.objects.filter(kind=EntryKind.ACCRUAL, order__isnull=False).select_related("order").first()
    assert entry is not None and entry.order is not None
    assert entry.created_at == entry.order.delivered_at


def test_if_empty_leaves_an_existing_programme_alone() -> None:
    seed_shop(customers=60, seed=21)
    make_owner()
    seed()
    rules = LoyaltyRule.objects.count()
    assert "left as it is" in seed(if_empty=True)
    assert LoyaltyRule.objects.count() == rules


def test_without_an_owner_the_command_says_what_to_run() -> None:
    with pytest.raises(CommandError, match="create_demo_users"):
        seed()
    assert not LoyaltyRule.objects.exists()
