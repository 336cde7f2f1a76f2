"""Database helpers shared by the apps' migrations and queries."""

from collections.abc import Callable
from typing import Any

from django.db import migrations


def postgres_only_sql(sql: str, reverse_sql: str) -> migrations.RunPython:
    """A migration step that runs only on PostgreSQL (extensions, trigram and partial indexes). The demo's SQLite
    database does without: its tables are small enough for a scan."""

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    step: Callable[..., None] = forward
    return migrations.RunPython(step, backward, elidable=False)
