"""/healthz: what the orchestrator asks before sending traffic or restarting the web container."""

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tests.conftest import RedisServer


@pytest.fixture
def broker_on_private_redis(settings: Settings, private_redis: RedisServer) -> RedisServer:
    settings.CELERY_BROKER_URL = private_redis.url
    return private_redis


@pytest.mark.django_db
def test_health_is_ok_when_the_database_and_the_broker_answer(broker_on_private_redis: RedisServer) -> None:
    response = Client().get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_health_turns_503_naming_the_broker_when_redis_stops(broker_on_private_redis: RedisServer) -> None:
    assert Client().get(reverse("healthz")).status_code == 200

    broker_on_private_redis.stop()
    response = Client().get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["database"] == "ok"
    assert body["broker"].startswith("broker: ")


@pytest.mark.django_db
def test_health_answers_without_signing_in_and_is_never_cached(broker_on_private_redis: RedisServer) -> None:
    response = Client().get(reverse("healthz"))

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
