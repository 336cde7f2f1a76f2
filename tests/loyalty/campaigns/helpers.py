"""Customers with scores and contacts, and campaigns, for the campaign tests."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from customers.models import Customer
from loyalty.campaigns.models import Campaign, Schedule, SendChannel
from loyalty.campaigns.presets import TEMPLATES, WIN_BACK_RULE
from loyalty.models import LoyaltyRule
from tests.factories import CustomerEmailFactory, CustomerFactory, CustomerPhoneFactory, CustomerScoreFactory

WIN_BACK_TEMPLATES = TEMPLATES["win_back"]


def person(
    *,
    risk: float = 0.7,
    tier: str = "medium",
    language: str = "ru",
    email: bool = True,
    sms: bool = False,
    segment: str = "at_risk",
    orders: int = 3,
    days_since: int = 60,
    name: str = "Анна Петрова",
    **fields: Any,
) -> Customer:
    """A scored customer with an email address and a phone, and marketing consent as told."""
    customer = CustomerFactory.create(
        name=name, language=language, email_consent=email, sms_consent=sms, orders_count=orders,
        last_order_at=timezone.now() - timedelta(days=days_since), **fields,
    )  # fmt: skip
    CustomerEmailFactory.create(customer=customer)
    CustomerPhoneFactory.create(customer=customer)
    CustomerScoreFactory.create(
        customer=customer, churn_risk=risk, tier=tier, segment=segment, average_value=Decimal("2000.00")
    )
    return customer


def win_back_rule(**params: Any) -> LoyaltyRule:
    spec = {**WIN_BACK_RULE, "params": {**WIN_BACK_RULE["params"], **params}}
    return LoyaltyRule.objects.create(**spec)


def campaign(**fields: Any) -> Campaign:
    """An active daily win-back campaign with no control group unless told otherwise."""
    values: dict[str, Any] = {
        "name": "Win back", "schedule": Schedule.DAILY, "churn_min": 0.6, "send_channel": SendChannel.EMAIL_FIRST,
        "control_share": Decimal("0"), "is_active": True, "templates": WIN_BACK_TEMPLATES,
        "link_url": "https://shop.example/",
    }  # fmt: skip
    values.update(fields)
    if "rule" not in values:
        values["rule"] = win_back_rule()
    return Campaign.objects.create(**values)
