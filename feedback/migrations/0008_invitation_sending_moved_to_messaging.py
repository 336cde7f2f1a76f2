"""The invitation's sending columns and indexes now live on messaging's Message; the every-minute "feedback.send_batch"
schedule gives way to messaging's own."""

from typing import Any

from django.db import migrations


def drop_old_schedule(apps: Any, schema_editor: Any) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    periodic_task.objects.filter(task="feedback.send_batch").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0007_invitations_into_outbox"),
        ("django_celery_beat", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="invitation", name="feedback_invitation_due"),
        migrations.RemoveIndex(model_name="invitation", name="feedback_invitation_sending"),
        migrations.RemoveField(model_name="invitation", name="attempts"),
        migrations.RemoveField(model_name="invitation", name="claim"),
        migrations.RemoveField(model_name="invitation", name="claimed_at"),
        migrations.RunPython(drop_old_schedule, migrations.RunPython.noop),
    ]
