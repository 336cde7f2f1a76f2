"""An index for the customer list filtered by RF segment and sorted by importance (the segments page's links).

Segments follow value: Lost and Hibernating customers sit at the bottom of the importance order. Filtered by such a
segment, the list walked ``score_importance`` from the top and skipped nearly every customer before the first of
the segment (the planner takes segment and importance for independent); ``score_segment`` is ``(segment,
importance)`` and leaves the ties of importance (a million customers share 101 values) to be sorted by customer.
With ``(segment, importance, customer)`` a page of a segment is one index range scan in list order, whatever the
segment and however deep the page. Built concurrently like 0005, as SQL for the same reason.
"""

from typing import Any

from django.db import migrations

NAME = "score_segment_list"


def create_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {NAME} ON scoring_customerscore (segment, importance, customer_id)"
    )


def drop_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("scoring", "0005_list_churn_clv_indexes"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
