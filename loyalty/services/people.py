"""Loyalty's part of what happens to a customer as a whole: a merge of duplicates and the erasure of personal data.
Both are plain functions for the customers registry to call inside its own transaction."""

from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from loyalty.models import (
    Coupon,
    EntryKind,
    LedgerEntry,
    Purpose,
    Redemption,
    ReferralCode,
    ReferralUse,
)
from loyalty.services.ledger import accounts_lock, post


def loyalty_merge_customers(*, survivor_id: int, duplicate_id: int) -> dict[str, int]:
    """Move the duplicate's credit, coupons, referral code and redemptions to the survivor. Runs inside the
    caller's transaction (the merge's), which must be open; locks both accounts in ascending id order.

    The ledgers stay true histories: the duplicate's open lots are closed by one "moved" debit each, and the
    survivor gets matching lots with the same expiry, order and rule (so a later return still finds what its order
    earned). Unused coupons change hands. The survivor keeps its own referral code if it has one; otherwise it
    takes the duplicate's (links already handed out keep working). Returns what moved, for the merge's record."""
    accounts = accounts_lock([survivor_id, duplicate_id])
    duplicate, survivor = accounts[duplicate_id], accounts[survivor_id]
    lots = list(LedgerEntry.objects.filter(customer_id=duplicate_id, remaining__gt=0).order_by("pk"))
    moved = Decimal("0")
    for lot in lots:
        amount = lot.remaining
        post(duplicate, kind=EntryKind.ADJUSTMENT, purpose=Purpose.MERGE, amount=-amount, source_entry=lot)
        LedgerEntry.objects.filter(pk=lot.pk).update(remaining=Decimal("0"))
        post(
            survivor, kind=EntryKind.ADJUSTMENT, purpose=Purpose.MERGE, amount=amount, source_entry=lot,
            expires_at=lot.expires_at, order_id=lot.order_id, rule_id=lot.rule_id,
        )  # fmt: skip
        moved += amount
    coupons = Coupon.objects.filter(customer_id=duplicate_id, used_at__isnull=True).update(customer_id=survivor_id)
    redemptions = Redemption.objects.filter(customer_id=duplicate_id).update(customer_id=survivor_id)
    referral = 0
    if not ReferralCode.objects.filter(customer_id=survivor_id).exists():
        referral = ReferralCode.objects.filter(customer_id=duplicate_id).update(customer_id=survivor_id)
    else:
        ReferralCode.objects.filter(customer_id=duplicate_id).update(is_active=False)
    if not ReferralUse.objects.filter(referee_id=survivor_id).exists():
        ReferralUse.objects.filter(referee_id=duplicate_id).update(referee_id=survivor_id)
    return {
        "loyalty_credit_lots": len(lots),
        "loyalty_coupons": coupons,
        "loyalty_redemptions": redemptions,
        "loyalty_referral_codes": referral,
    }


def loyalty_erase_personal_data(*, customer_ids: list[int]) -> dict[str, int]:
    """What names the person goes; the amounts stay for the accounts. Ledger reasons (free text an owner may have
    written about the person) are blanked, the referral code (a handle others typed in) is switched off, unused
    coupons are revoked. Runs inside the caller's transaction."""
    now = timezone.now()
    reasons = LedgerEntry.objects.filter(customer_id__in=customer_ids).exclude(reason="").update(reason="")
    codes = ReferralCode.objects.filter(customer_id__in=customer_ids, is_active=True).update(is_active=False)
    coupons = Coupon.objects.filter(
        Q(customer_id__in=customer_ids), used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    return {"loyalty_reasons": reasons, "loyalty_referral_codes": codes, "loyalty_coupons": coupons}
