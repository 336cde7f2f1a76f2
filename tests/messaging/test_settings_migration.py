"""The data migration that moved quiet hours from the survey settings to messaging's: the owner's hours are kept."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("feedback", "0010_follow_up_opened_by_staff"), ("messaging", "0002_messaging_settings")]
AFTER = [("feedback", "0011_quiet_hours_moved_to_messaging")]


@pytest.mark.django_db(transaction=True)
def test_the_owners_quiet_hours_move_to_messaging_settings(schema_restored: None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    apps.get_model("feedback", "FeedbackSettings").objects.update_or_create(
        pk=1, defaults={"quiet_from": 22, "quiet_until": 8}
    )
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    moved = apps.get_model("messaging", "MessagingSettings").objects.get(pk=1)
    assert (moved.quiet_from, moved.quiet_until) == (22, 8)
    assert (moved.cap_messages, moved.cap_days) == (3, 7)
