"""Each lookup token's rate limit (counted in the real Redis) and the record of every lookup it makes."""

import time
import uuid

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer
from shop.audit import openings_in_last_hour
from shop.models import AuditEntry, AuditKind, AuditReason, IntegrationToken, ShopSettings
from shop.ratelimit import rate_limit_retry_after
from shop.roles import Capability, Role
from shop.services import token_issue
from tests.factories import CustomerFactory, CustomerPhoneFactory, make_user
from tests.prerequisites import prerequisite_missing

pytestmark = pytest.mark.django_db
LOOKUP = reverse("api:caller_lookup")


@pytest.fixture(autouse=True)
def _real_redis() -> None:
    """The counters live in Redis: without one these tests would count in a per-process cache instead."""
    if not settings.REDIS_URL:
        prerequisite_missing("REDIS_URL is not set: the lookup limits are counted in Redis")
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        prerequisite_missing(f"Redis at REDIS_URL does not answer: {error}")


def caller() -> Customer:
    customer = CustomerFactory.create(name="Мария Соколова")
    CustomerPhoneFactory.create(customer=customer, number="+79991234567")
    return customer


def client_with(rate: int) -> tuple[APIClient, IntegrationToken]:
    issued = token_issue(name="АТС", scopes=[Capability.LOOKUP], created_by=None, lookup_rate_per_second=rate)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    return client, issued.token


def test_a_token_over_its_rate_gets_429_with_retry_after():
    caller()
    client, _token = client_with(rate=1)

    # Three requests span at most two one-second windows, so one window holds two and its second is refused.
    responses = [client.get(LOOKUP, {"phone": "89991234567"}) for _ in range(3)]

    statuses = [response.status_code for response in responses]
    assert statuses.count(429) >= 1 and statuses[0] == 200
    refused = next(response for response in responses if response.status_code == 429)
    assert refused["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "throttled"


def test_each_token_has_its_own_count():
    caller()
    busy, _ = client_with(rate=1)
    other, _ = client_with(rate=1)
    busy.get(LOOKUP, {"phone": "89991234567"})
    busy.get(LOOKUP, {"phone": "89991234567"})

    assert other.get(LOOKUP, {"phone": "89991234567"}).status_code == 200


def test_every_lookup_is_recorded_with_the_token_found_or_not():
    customer = caller()
    client, token = client_with(rate=100)

    client.get(LOOKUP, {"phone": "89991234567"})
    client.get(LOOKUP, {"phone": "89990000000"})

    rows = list(
        AuditEntry.objects.filter(kind=AuditKind.LOOKUP).order_by("id").values_list("token_id", "customer_id", "reason")
    )
    assert rows == [(token.pk, customer.pk, AuditReason.API), (token.pk, None, AuditReason.API)]
    assert all(entry.actor.startswith("АТС (") for entry in AuditEntry.objects.filter(kind=AuditKind.LOOKUP))


def test_the_card_url_of_a_lookup_opens_the_card_for_an_operator():
    customer = caller()
    client, _token = client_with(rate=100)
    operator = make_user(Role.OPERATOR)
    card_url = client.get(LOOKUP, {"phone": "89991234567"}).json()["card_url"]

    page = APIClient()
    page.force_login(operator)
    assert page.get(card_url).status_code == 200
    assert AuditEntry.objects.get(kind=AuditKind.CARD_VIEW).customer_id == customer.pk


def test_an_operators_session_lookups_count_against_the_hourly_limit():
    caller()
    shop = ShopSettings.load()
    shop.operator_cards_per_hour = 2
    shop.save()
    operator = make_user(Role.OPERATOR)
    client = APIClient()
    client.force_login(operator)

    statuses = [client.get(LOOKUP, {"phone": "89991234567"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert openings_in_last_hour(operator) == 2


def test_the_window_turns_after_a_second_and_retry_after_says_when():
    name = f"test:{uuid.uuid4()}"
    start = time.time() // 1 + 0.25
    assert [rate_limit_retry_after(name, 2, now=start) for _ in range(3)] == [0, 0, 1]
    assert rate_limit_retry_after(name, 2, now=start + 1) == 0


def test_a_redis_that_does_not_answer_lets_the_lookup_through(settings):
    caller()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    client, _token = client_with(rate=1)

    statuses = [client.get(LOOKUP, {"phone": "89991234567"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert AuditEntry.objects.filter(kind=AuditKind.LOOKUP).count() == 3


def test_a_windows_counter_is_created_with_its_expiry():
    name = f"test:{uuid.uuid4()}"
    now = time.time()

    rate_limit_retry_after(name, 5, now=now)

    key = f"ratelimit:{settings.DATABASES['default']['NAME']}:{name}:{int(now)}"
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(key)
    assert 0 < ttl <= 2
