from django.db import migrations, models


class Migration(migrations.Migration):
    """A partial index of the sent surveys still waiting for their reminder: the reminder sweep reads only those."""

    dependencies = [("feedback", "0003_delete_negativefeedback")]

    operations = [
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(
                condition=models.Q(
                    ("reminder_due_at__isnull", False), ("reminder_sent_at__isnull", True), ("state", "sent")
                ),
                fields=["reminder_due_at"],
                name="feedback_invitation_reminder",
            ),
        ),
    ]
