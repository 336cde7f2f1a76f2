"""A follow-up opened from the early-warning list stores why as a code with its figures, and reads in the reader's
language whoever clicked; text a person typed reads as typed; the old sentences in either language become the code."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import FOLLOW_UP_REASONS, FollowUpReason
from feedback.services import follow_up_open
from shop.roles import Role
from tests.factories import CustomerFactory, make_user


@pytest.mark.django_db
def test_an_early_warning_reason_recorded_in_russian_reads_in_english_and_back():
    customer = CustomerFactory.create()
    with translation.override("ru"):
        stored = FOLLOW_UP_REASONS.store(FollowUpReason.EARLY_WARNING, before=30, now=55)
        follow_up, _created = follow_up_open(customer_id=customer.pk, reason=stored, opened_by=None)
    follow_up.refresh_from_db()
    assert follow_up.reason.startswith("early_warning ")
    with translation.override("en"):
        assert follow_up.reason_text == "Early warning: churn risk rose from 30% to 55% since last month."
    with translation.override("ru"):
        assert follow_up.reason_text == "Раннее предупреждение: риск ухода вырос с 30% до 55% за месяц."


@pytest.mark.django_db
def test_a_typed_reason_reads_as_typed_in_either_language():
    customer = CustomerFactory.create()
    follow_up, _created = follow_up_open(customer_id=customer.pk, reason="Позвонить после праздников", opened_by=None)
    for language in ("en", "ru"):
        with translation.override(language):
            assert follow_up.reason_text == "Позвонить после праздников"


@pytest.mark.django_db
def test_the_follow_up_page_shows_the_warning_in_the_readers_language():
    customer = CustomerFactory.create()
    with translation.override("en"):
        stored = FOLLOW_UP_REASONS.store(FollowUpReason.EARLY_WARNING, before=20, now=70)
        follow_up, _created = follow_up_open(customer_id=customer.pk, reason=stored, opened_by=None)
    client = Client()
    client.force_login(make_user(Role.MANAGER, language="ru"))
    page = client.get(reverse("feedback:follow_up", args=[follow_up.pk]))
    body = page.content.decode()
    assert "риск ухода вырос с 20% до 70%" in body
    assert "early_warning" not in body and "Early warning" not in body


@pytest.mark.django_db(transaction=True)
def test_old_warning_sentences_in_either_language_become_the_code(schema_restored: None) -> None:
    before = [("feedback", "0012_invitation_reason_codes")]
    after = [("feedback", "0013_follow_up_reason_codes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    model = apps.get_model("feedback", "FollowUp")
    customers = [apps.get_model("customers", "Customer").objects.create(name=f"C{n}") for n in range(3)]
    texts = [
        "Early warning: churn risk rose from 30% to 55% since last month.",
        "Раннее предупреждение: риск ухода вырос с 12% до 64% за месяц.",
        "Позвонить после праздников",
    ]
    for customer, text in zip(customers, texts, strict=True):
        model.objects.create(customer=customer, reason=text, due_at=timezone.now())

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    apps = executor.loader.project_state(after).apps
    stored = [apps.get_model("feedback", "FollowUp").objects.get(customer_id=c.pk).reason for c in customers]
    assert stored[0].startswith("early_warning ") and json.loads(stored[0][14:]) == {"before": 30, "now": 55}
    assert stored[1].startswith("early_warning ") and json.loads(stored[1][14:]) == {"before": 12, "now": 64}
    assert stored[2] == "Позвонить после праздников"
