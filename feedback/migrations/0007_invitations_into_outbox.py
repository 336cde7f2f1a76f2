"""Every survey invitation gets its row in messaging's outbox, carrying what the invitation held about sending it
(state, due time, attempts, claim, sent time, error); answered ones count as sent. Reminders already sent are not
copied (they left and need no outbox row). In batches by id, so a large table does not sit in memory."""

from typing import Any

from django.db import migrations

BATCH = 2000
STATES = {"due": "due", "sending": "sending", "sent": "sent", "failed": "failed", "unknown": "unknown"}


def forwards(apps: Any, schema_editor: Any) -> None:
    invitation_model = apps.get_model("feedback", "Invitation")
    message_model = apps.get_model("messaging", "Message")
    last = 0
    while True:
        rows = list(
            invitation_model.objects.filter(pk__gt=last, message__isnull=True)
            .select_related("order")
            .order_by("pk")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1].pk
        messages = message_model.objects.bulk_create(
            [
                message_model(
                    customer_id=row.customer_id,
                    channel=row.channel,
                    purpose="service",
                    address=row.address,
                    language=row.language,
                    kind="survey.invitation",
                    source=f"order:{row.order_id}",
                    context={"token": row.public_token, "order_number": row.order.external_id},
                    state=STATES.get(row.state, "sent"),
                    due_at=row.due_at,
                    attempts=row.attempts,
                    claim=row.claim,
                    claimed_at=row.claimed_at,
                    # A claim from before attempts were recorded one by one: treat every row of it as attempted.
                    attempted_at=row.claimed_at if row.state == "sending" else None,
                    sent_at=row.sent_at,
                    error=row.error,
                    created_at=row.created_at,
                )
                for row in rows
            ]
        )
        for row, message in zip(rows, messages, strict=True):
            row.message_id = message.pk
        invitation_model.objects.bulk_update(rows, ["message"])


def backwards(apps: Any, schema_editor: Any) -> None:
    invitation_model = apps.get_model("feedback", "Invitation")
    message_model = apps.get_model("messaging", "Message")
    invitation_model.objects.update(message=None)
    message_model.objects.filter(kind="survey.invitation").delete()


class Migration(migrations.Migration):
    dependencies = [("feedback", "0006_invitation_message")]

    operations = [migrations.RunPython(forwards, backwards)]
