"""The migrations that turned stored sentences into reason codes: English and Russian sentences alike become their
code, figures and a gateway's words become parameters, and any other text is kept as the raw detail."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("messaging", "0003_claimed_on"), ("feedback", "0011_quiet_hours_moved_to_messaging")]
AFTER = [("messaging", "0004_reason_codes"), ("feedback", "0012_invitation_reason_codes")]

STORED = {
    "Not sent: the customer already had 3 messages in 7 days.": 'capped {"days": 7, "n": 3}',
    "Не отправлено: покупатель уже получил 5 сообщ. за 14 дн.": 'capped {"days": 14, "n": 5}',
    "The worker stopped while sending; the message may have left.": "worker_stopped",
    "Обработчик остановился во время отправки; сообщение могло уйти.": "worker_stopped",
    "База данных перезапустилась во время отправки; сообщение могло уйти.": "database_restarted",
    "Клиент отписался от предложений до отправки.": "unsubscribed",
    "SMS gateway answered HTTP 502": 'gateway_http {"status": 502}',
    "SMS gateway refused: Нет денег на счету": 'provider {"detail": "Нет денег на счету"}',
    "Invalid number": 'other {"detail": "Invalid number"}',
    "": "",
}


@pytest.mark.django_db(transaction=True)
def test_stored_sentences_in_either_language_become_reason_codes(schema_restored: None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    customer = apps.get_model("customers", "Customer").objects.create(name="Анна")
    message_model = apps.get_model("messaging", "Message")
    now = timezone.now()
    for number, text in enumerate(STORED):
        message_model.objects.create(
            customer=customer, channel="email", purpose="service", address="anna@example.com", kind="test",
            source=f"test:{number}", due_at=now, state="failed", error=text,
        )  # fmt: skip
    order = apps.get_model("orders", "Order").objects.create(
        source="web", external_id="R-1", customer=customer, placed_at=now, status_changed_at=now
    )
    apps.get_model("feedback", "Invitation").objects.create(
        order=order, customer=customer, channel="email", address="anna@example.com", due_at=now, state="failed",
        error="Клиент отписался до отправки.",
    )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    stored = dict(apps.get_model("messaging", "Message").objects.values_list("source", "error"))
    assert [stored[f"test:{number}"] for number in range(len(STORED))] == list(STORED.values())
    assert apps.get_model("feedback", "Invitation").objects.get().error == "surveys_unsubscribed"
    # The parameters are the JSON the reading expects.
    assert json.loads(stored["test:0"].partition(" ")[2]) == {"n": 3, "days": 7}
