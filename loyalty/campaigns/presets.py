"""The seeds' two strategies as campaigns the owner switches on.

"Reward loyalty" (strategy a): after each delivered order, the customer hears the tier discount they now have and
the next step ("your discount is now 5 %, 3 more orders to 10 %"), from the shop's cumulative-tier rule.
"Win back before they go" (strategy b): whoever's churn risk crosses 60 % gets a personal coupon that grows with
the risk (the win-back rule's curve), again at 80 %; VIP and High customers get an operator's call instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from loyalty.campaigns.models import Campaign, Preset, Schedule, SendChannel
from loyalty.campaigns.services import campaign_save, campaign_set_active
from loyalty.models import LoyaltyRule, RuleKind
from loyalty.services import rule_create

TIERS_RULE: dict[str, Any] = {
    "name": "",
    "kind": RuleKind.CUMULATIVE,
    "params": {"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]},
    "stacking": "stack",
    "max_total_percent": Decimal("20"),
}
WIN_BACK_RULE: dict[str, Any] = {
    "name": "",
    "kind": RuleKind.WIN_BACK,
    "params": {
        "value_kind": "percent", "curve": "linear", "risk_from": "0.5", "risk_to": "0.9", "value_from": "5",
        "value_to": "20", "risk_threshold": "0.5", "days_threshold": None, "clv_reference": None, "cap": "20",
    },
}  # fmt: skip

TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    Preset.REWARD_LOYALTY: {
        "ru": {
            "subject": "{name}, спасибо за заказ!",
            "email": "{name}, спасибо за заказ! {offer}.\n\nВаши покупки: {link}",
            "sms": "{name}, спасибо! {offer}. {link}",
        },
        "en": {
            "subject": "{name}, thank you for your order!",
            "email": "{name}, thank you for your order! {offer}.\n\nYour purchases: {link}",
            "sms": "{name}, thank you! {offer}. {link}",
        },
    },
    Preset.WIN_BACK: {
        "ru": {
            "subject": "{name}, скидка {offer} только для вас",
            "email": "{name}, мы скучаем! Ваша персональная скидка {offer} по коду {code} до {expiry}.\n\n{link}",
            "sms": "{name}, скидка {offer} по коду {code} до {expiry}. {link}",
        },
        "en": {
            "subject": "{name}, {offer} off just for you",
            "email": "{name}, we miss you! Your personal {offer} off with the code {code} until {expiry}.\n\n{link}",
            "sms": "{name}, {offer} off with the code {code} until {expiry}. {link}",
        },
    },
}


def _rule(user: Any, spec: dict[str, Any], *, active: bool) -> LoyaltyRule:
    """The shop's rule of this kind (the oldest), else one made from the preset's defaults."""
    found = LoyaltyRule.objects.filter(kind=spec["kind"]).order_by("pk").first()
    if spec["kind"] == RuleKind.CUMULATIVE:
        found = LoyaltyRule.objects.filter(kind=spec["kind"], params__basis="orders").order_by("pk").first()
    return found or rule_create(user=user, is_active=active, **spec)


def preset_campaign(*, user: Any, preset: str) -> Campaign:
    """The preset's campaign (made, switched off, on first use, with its rule): what the owner previews before
    switching it on."""
    existing = Campaign.objects.filter(preset=preset).order_by("pk").first()
    if existing is not None:
        return existing
    if preset == Preset.REWARD_LOYALTY:
        campaign = Campaign(
            name="", preset=preset, schedule=Schedule.AFTER_DELIVERY,
            send_channel=SendChannel.EMAIL_FIRST, rule=_rule(user, TIERS_RULE, active=True),
            control_share=Decimal("0.1"),
        )  # fmt: skip
    elif preset == Preset.WIN_BACK:
        campaign = Campaign(
            name="", preset=preset, schedule=Schedule.DAILY, churn_min=0.6,
            risk_thresholds=[0.6, 0.8], call_tiers=["vip", "high"], send_channel=SendChannel.SMS_FIRST,
            rule=_rule(user, WIN_BACK_RULE, active=False), control_share=Decimal("0.2"),
            budget=Decimal("100000"), offer_days=14,
        )  # fmt: skip
    else:
        raise ValueError(preset)
    campaign.templates = TEMPLATES[preset]
    return campaign_save(user=user, campaign=campaign)


def preset_switch(*, user: Any, preset: str, active: bool) -> Campaign:
    return campaign_set_active(user=user, campaign=preset_campaign(user=user, preset=preset), active=active)
