"""The customer list's "valuable and at risk" filter (scoring.listing), sorted by importance: a partial index on
``(importance, customer)`` over the flagged rows only, a few per cent of the base, so a page is a range scan of its
rows and the nightly run's fresh table builds it from those rows alone.

Built concurrently, outside a transaction, like the list's other indexes (0005), and written as SQL for the same
reason: the index belongs to the list that reads it.
"""

from typing import Any

from django.db import migrations

NAME = "score_at_risk_valuable"


def create_index(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON scoring_customerscore (importance, customer_id) "
        "WHERE at_risk_valuable"
    )


def drop_index(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("scoring", "0012_score_at_risk_valuable"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
