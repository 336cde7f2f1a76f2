"""Idempotency keys are forgotten after a day, by a task the owner sees on the schedules page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from shop.idempotency import idempotency_keys_expire
from shop.models import IdempotencyKey

pytestmark = pytest.mark.django_db


def test_keys_older_than_a_day_are_forgotten_and_newer_ones_kept():
    now = timezone.now()
    IdempotencyKey.objects.create(owner="token:1", key="old", fingerprint="x", created_at=now - timedelta(hours=25))
    IdempotencyKey.objects.create(owner="token:1", key="new", fingerprint="x", created_at=now - timedelta(hours=23))
    assert idempotency_keys_expire(now=now) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_expiry_runs_hourly_on_the_schedule():
    task = PeriodicTask.objects.get(task="shop.idempotency_keys_expire")
    assert task.enabled and (task.interval.every, task.interval.period) == (1, "hours")
