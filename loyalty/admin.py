"""Loyalty in the admin: to look, never to write. Rules change through ``loyalty.services`` (which keeps their
history) and credit moves only through the ledger's services, so every model here is read-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from loyalty.models import Coupon, LedgerEntry, LoyaltyAccount, LoyaltyRule, LoyaltyRuleChange, PromoBatch, Redemption


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoyaltyRule)
class LoyaltyRuleAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "is_active", "budget_cap", "budget_spent", "control_share", "updated_at")
    list_filter = ("kind", "is_active")


@admin.register(LoyaltyRuleChange)
class LoyaltyRuleChangeAdmin(ReadOnlyAdmin):
    list_display = ("rule", "changed_by", "changed_at")


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(ReadOnlyAdmin):
    list_display = ("customer_id", "balance", "updated_at")
    raw_id_fields = ("customer",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "customer_id",
        "kind",
        "purpose",
        "amount",
        "balance_after",
        "remaining",
        "expires_at",
        "created_at",
    )
    list_filter = ("kind", "purpose")
    raw_id_fields = ("customer", "order", "source_entry", "redemption")


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdmin):
    list_display = ("code", "customer_id", "value_kind", "value", "valid_until", "used_at", "revoked_at")
    search_fields = ("code",)


@admin.register(PromoBatch)
class PromoBatchAdmin(ReadOnlyAdmin):
    list_display = ("name", "rule", "uses_per_code", "uses_per_customer", "valid_until", "is_active")


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = (
        "order_source",
        "order_external_id",
        "customer_id",
        "discount",
        "credit_spent",
        "state",
        "created_at",
    )
    list_filter = ("state",)
