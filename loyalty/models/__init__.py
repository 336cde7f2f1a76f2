"""Loyalty's tables: the owner's rules and their history, the credit ledger, and the codes and redemptions."""

from loyalty.models.codes import (
    Coupon,
    PromoBatch,
    PromoCode,
    PromoCodeUse,
    Redemption,
    RedemptionOffer,
    RedemptionState,
    ReferralCode,
    ReferralUse,
    ValueKind,
)
from loyalty.models.ledger import EntryKind, LedgerEntry, LoyaltyAccount, Purpose
from loyalty.models.rules import LoyaltyRule, LoyaltyRuleChange, OrderKind, RuleKind, Stacking

__all__ = [
    "Coupon",
    "EntryKind",
    "LedgerEntry",
    "LoyaltyAccount",
    "LoyaltyRule",
    "LoyaltyRuleChange",
    "OrderKind",
    "PromoBatch",
    "PromoCode",
    "PromoCodeUse",
    "Purpose",
    "Redemption",
    "RedemptionOffer",
    "RedemptionState",
    "ReferralCode",
    "ReferralUse",
    "RuleKind",
    "Stacking",
    "ValueKind",
]
