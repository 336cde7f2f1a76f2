"""Quiet hours belong to every message, not only surveys: the owner's hours move to messaging's settings (kept as
they were), then leave the survey settings."""

from typing import Any

from django.db import migrations


def move_quiet_hours(apps: Any, schema_editor: Any) -> None:
    feedback_settings = apps.get_model("feedback", "FeedbackSettings").objects.filter(pk=1).first()
    if feedback_settings is None:
        return
    apps.get_model("messaging", "MessagingSettings").objects.update_or_create(
        pk=1, defaults={"quiet_from": feedback_settings.quiet_from, "quiet_until": feedback_settings.quiet_until}
    )


def restore_quiet_hours(apps: Any, schema_editor: Any) -> None:
    messaging_settings = apps.get_model("messaging", "MessagingSettings").objects.filter(pk=1).first()
    if messaging_settings is None:
        return
    apps.get_model("feedback", "FeedbackSettings").objects.filter(pk=1).update(
        quiet_from=messaging_settings.quiet_from, quiet_until=messaging_settings.quiet_until
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0010_follow_up_opened_by_staff"),
        ("messaging", "0002_messaging_settings"),
    ]

    operations = [
        migrations.RunPython(move_quiet_hours, restore_quiet_hours),
        migrations.RemoveField(model_name="feedbacksettings", name="quiet_from"),
        migrations.RemoveField(model_name="feedbacksettings", name="quiet_until"),
    ]
