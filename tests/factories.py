"""Factories for the whole suite: one place that knows how to make a valid row of each model."""

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.models import Customer, CustomerEmail, CustomerPhone, Note, Tag
from loyalty.models import Coupon, LoyaltyRule
from messaging.models import Channel, Message, Purpose
from orders.models import Order, OrderItem, OrderStatusChange
from scoring.models import CustomerScore
from shop.models import User
from shop.roles import Role
from shop.twofactor import second_factor_required_by_role, totp_device_of

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Анна"
    last_name = factory.Sequence(lambda n: f"Иванова{n}")
    password = factory.django.Password(TEST_PASSWORD)


def make_user(role: str | None, **kwargs: object) -> User:
    user: User = UserFactory(**kwargs)  # type: ignore[assignment]
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def second_factor_device_for_tests(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator, created if their role requires one and they have none; None for a user
    who signs in without a second factor."""
    device = totp_device_of(user)
    if device is None and second_factor_required_by_role(user):
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    return device


def totp_code(device: TOTPDevice, *, step_offset: int = 0) -> str:
    """The code the user's authenticator app shows now (or ``step_offset`` 30-second steps away)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"


def make_owner(**kwargs: object) -> User:
    return make_user(Role.OWNER, **kwargs)


def make_manager(**kwargs: object) -> User:
    return make_user(Role.MANAGER, **kwargs)


def make_operator(**kwargs: object) -> User:
    return make_user(Role.OPERATOR, **kwargs)


# --- Customers and orders ---
# Generic factories: ``CustomerFactory.create()`` is typed as returning a Customer.


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Покупатель {n}")
    city = "Москва"
    orders_count = 0
    total_spent = Decimal("0")
    # A customer with orders or money spent has a last order, as orders.services keeps the summary.
    last_order_at = factory.LazyAttribute(
        lambda o: timezone.now() - timedelta(days=10) if (o.orders_count or o.total_spent) else None
    )


class CustomerPhoneFactory(factory.django.DjangoModelFactory[CustomerPhone]):
    class Meta:
        model = CustomerPhone

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"+7999{n:07d}")
    is_primary = True


class CustomerEmailFactory(factory.django.DjangoModelFactory[CustomerEmail]):
    class Meta:
        model = CustomerEmail

    customer = factory.SubFactory(CustomerFactory)
    address = factory.Sequence(lambda n: f"customer{n}@example.com")
    is_primary = True


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")


class NoteFactory(factory.django.DjangoModelFactory[Note]):
    class Meta:
        model = Note

    customer = factory.SubFactory(CustomerFactory)
    text = factory.Sequence(lambda n: f"Note {n}")


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    """An order row as ingestion would store it. It does not refresh the customer's summary: call
    ``orders.services.customer_summaries_refresh`` when a test reads it."""

    class Meta:
        model = Order

    source = "web"
    external_id = factory.Sequence(lambda n: f"A-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    placed_at = factory.LazyFunction(timezone.now)
    status = "new"
    currency = "RUB"
    subtotal = Decimal("1000.00")
    total = Decimal("1000.00")


class OrderItemFactory(factory.django.DjangoModelFactory[OrderItem]):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = factory.Sequence(lambda n: f"Товар {n}")
    price = Decimal("500.00")
    quantity = Decimal("2")


class OrderStatusChangeFactory(factory.django.DjangoModelFactory[OrderStatusChange]):
    class Meta:
        model = OrderStatusChange

    order = factory.SubFactory(OrderFactory)
    from_status = ""
    to_status = "new"
    origin = "api"


# --- Scores ---


class CustomerScoreFactory(factory.django.DjangoModelFactory[CustomerScore]):
    """A stored score as a run would write it (no run needed): a two-purchase-day customer in the middle of the
    base. Override the figures a test is about; ``tier`` and ``segment`` are not derived from them."""

    class Meta:
        model = CustomerScore

    customer = factory.SubFactory(CustomerFactory)
    first_purchase = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=200))
    last_purchase = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    transactions = 2
    recency_days = 30
    tenure_days = 200
    total_value = Decimal("3000.00")
    average_value = Decimal("1500.00")
    r_score = 4
    f_score = 3
    m_score = 3
    segment = "potential_loyalists"
    p_alive = 0.8
    expected_30 = 0.2
    expected_90 = 0.5
    expected_365 = 1.6
    expected_value = Decimal("1500.00")
    predicted_clv = Decimal("900.00")
    churn_risk = 0.2
    importance = 60
    tier = "medium"


# --- Loyalty ---


class LoyaltyRuleFactory(factory.django.DjangoModelFactory[LoyaltyRule]):
    """An active store-credit rule (5 % of each delivered order, 90 days) unless told otherwise; pass ``kind`` and
    ``params`` together."""

    class Meta:
        model = LoyaltyRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = "store_credit"
    params = factory.LazyFunction(
        lambda: {"accrual_kind": "percent", "value": "5", "expires_days": 90, "max_share_percent": "50"}
    )
    is_active = True


class CouponFactory(factory.django.DjangoModelFactory[Coupon]):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"CTEST{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    value_kind = "fixed"
    value = Decimal("300.00")
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    """A due message in the outbox (a service email unless told otherwise)."""

    class Meta:
        model = Message

    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.EMAIL
    purpose = Purpose.SERVICE
    address = factory.Sequence(lambda n: f"customer{n}@example.com")
    language = "ru"
    kind = "test.message"
    source = factory.Sequence(lambda n: f"test:{n}")
    subject = "Скидка 10 %"
    body = "Только до воскресенья."
    due_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))


def operator_opens_card(customer_id: int, **user_fields: object) -> Any:
    """An operator's view of a card, opened the way the console offers it (a link signed as a search), since an
    operator cannot open a card by its bare address (crm.call.access)."""
    from django.test import Client

    from crm.call.access import card_url
    from shop.models import AuditReason

    operator = make_operator(**user_fields)
    client = Client()
    client.force_login(operator)
    return client.get(card_url(customer_id, AuditReason.SEARCH, operator))
