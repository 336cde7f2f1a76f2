"""Loyalty's writes: rules, credit, codes, checkout, accrual and reversal, and its part of merges and erasure."""

from loyalty.services.accrual import loyalty_accrue_for_orders, review_reward_grant
from loyalty.services.checkout import CheckoutQuote, loyalty_quote, loyalty_redeem
from loyalty.services.codes import (
    coupon_issue,
    coupons_issue_bulk,
    promo_batch_deactivate,
    promo_batch_generate,
    referral_code_for,
)
from loyalty.services.expiry import credit_expire_due
from loyalty.services.ledger import credit_accrue, credit_adjust
from loyalty.services.people import loyalty_erase_personal_data, loyalty_merge_customers
from loyalty.services.reversal import loyalty_reverse_for_orders
from loyalty.services.rules import rule_create, rule_set_active, rule_update

__all__ = [
    "CheckoutQuote",
    "coupon_issue",
    "coupons_issue_bulk",
    "credit_accrue",
    "credit_adjust",
    "credit_expire_due",
    "loyalty_accrue_for_orders",
    "loyalty_erase_personal_data",
    "loyalty_merge_customers",
    "loyalty_quote",
    "loyalty_redeem",
    "loyalty_reverse_for_orders",
    "promo_batch_deactivate",
    "promo_batch_generate",
    "referral_code_for",
    "review_reward_grant",
    "rule_create",
    "rule_set_active",
    "rule_update",
]
