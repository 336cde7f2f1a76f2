"""The data migration that moved the survey outbox into messaging: every invitation gets its message, carrying what
the invitation held about sending it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("feedback", "0005_invitation_sent_index")]
AFTER = [("feedback", "0008_invitation_sending_moved_to_messaging")]


@pytest.mark.django_db(transaction=True)
def test_existing_invitations_get_their_outbox_rows_with_state_attempts_and_claim(schema_restored: None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    customer = apps.get_model("customers", "Customer").objects.create(name="Анна")
    order_model, invitation_model = apps.get_model("orders", "Order"), apps.get_model("feedback", "Invitation")
    now = timezone.now()
    rows = {}
    for number, (state, attempts) in enumerate((("due", 0), ("sent", 1), ("sending", 2), ("answered", 1))):
        order = order_model.objects.create(
            source="web", external_id=f"M-{number}", customer=customer, placed_at=now, status_changed_at=now
        )
        rows[state] = invitation_model.objects.create(
            order=order,
            customer=customer,
            channel="email",
            address="anna@example.com",
            language="ru",
            state=state,
            due_at=now - timedelta(hours=1),
            attempts=attempts,
            claimed_at=now if state == "sending" else None,
            sent_at=now if state in ("sent", "answered") else None,
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    invitations = apps.get_model("feedback", "Invitation").objects.select_related("message", "order")
    moved = {invitation.state: invitation for invitation in invitations}
    assert set(moved) == {"due", "sent", "sending", "answered"}
    for state, invitation in moved.items():
        message = invitation.message
        assert (message.kind, message.source, message.purpose) == (
            "survey.invitation",
            f"order:{invitation.order_id}",
            "service",
        )
        assert message.context == {"token": invitation.public_token, "order_number": invitation.order.external_id}
        assert message.attempts == rows[state].attempts
    assert moved["due"].message.state == "due"
    assert moved["answered"].message.state == "sent"
    # A claim from before attempts were recorded one by one counts as attempted: the sweep will not resend it.
    assert moved["sending"].message.attempted_at is not None
