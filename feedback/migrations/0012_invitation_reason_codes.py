"""A survey invitation's ``error`` held its message's sentence (English or Russian, whichever the worker spoke):
it becomes the same reason code as the message's, by the mapping of messaging's migration 0004."""

import importlib
from typing import Any

from django.db import migrations

_CODES = importlib.import_module("messaging.migrations.0004_reason_codes")


def forward(apps: Any, schema_editor: Any) -> None:
    _CODES.convert_table(schema_editor, apps.get_model("feedback", "Invitation")._meta.db_table)


def backward(apps: Any, schema_editor: Any) -> None:
    _CODES.codes_back_to_english(schema_editor, apps.get_model("feedback", "Invitation")._meta.db_table)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0011_quiet_hours_moved_to_messaging"),
        ("messaging", "0004_reason_codes"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
