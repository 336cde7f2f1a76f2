"""Loyalty's tables: the owner's rules and their history, the credit ledger, and the codes and redemptions."""

from loyalty.campaigns.models import (
    CallState,
    CallTask,
    Campaign,
    CampaignRecipient,
    Group,
    Preset,
    RecipientStatus,
    Schedule,
    SendChannel,
)
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
    "CallState",
    "CallTask",
    "Campaign",
    "CampaignRecipient",
    "Coupon",
    "EntryKind",
    "Group",
    "LedgerEntry",
    "LoyaltyAccount",
    "LoyaltyRule",
    "LoyaltyRuleChange",
    "OrderKind",
    "Preset",
    "PromoBatch",
    "PromoCode",
    "PromoCodeUse",
    "Purpose",
    "RecipientStatus",
    "Redemption",
    "RedemptionOffer",
    "RedemptionState",
    "ReferralCode",
    "ReferralUse",
    "RuleKind",
    "Schedule",
    "SendChannel",
    "Stacking",
    "ValueKind",
]
