"""Loyalty's part of a person's data requests and merges: the ledger, coupons and referral code in the download;
on erasure the amounts stay for the accounts and what names the person goes; a merge moves credit, coupons and
the referral code to the survivor. Registered from ``LoyaltyConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from customers.contrib import Eraser, Erasure, ExportPart, MergeMover
from loyalty.selectors import customer_export
from loyalty.services import loyalty_erase_personal_data, loyalty_merge_customers

if TYPE_CHECKING:
    from customers.models import Customer


def _export(customer: Customer) -> dict[str, Any]:
    return customer_export(customer.pk)


def _erase(erasure: Erasure) -> dict[str, int]:
    return loyalty_erase_personal_data(customer_ids=erasure.customer_ids)


def _move(survivor: Customer, duplicate: Customer) -> dict[str, int]:
    return loyalty_merge_customers(survivor_id=survivor.pk, duplicate_id=duplicate.pk)


EXPORT_PARTS = (ExportPart("loyalty", 400, _export),)
ERASERS = (Eraser("loyalty", 400, _erase),)
# After scoring (300): loyalty's own rows, last in the global lock order.
MERGE_MOVERS = (MergeMover("loyalty", 400, _move),)
