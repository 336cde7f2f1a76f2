"""Cheaper monthly snapshots: a month's first run inserts a million rows, each B-tree on the table costs it about
a second, and each foreign key a per-row check at commit (11 s for the two keys). The foreign-key constraints go
(the rows come from the score table; the ORM still cascades), the customer's own index goes (the unique (customer, month) index serves a customer's rows and
the cascade), and the (month, customer) B-tree gives way to a BRIN index on month: a month's rows are written
together, so a later run finds them by block range at almost no cost to keep. "Rising" reads last month's churn
risk from the live score row now (scoring.statistics), not from the snapshots.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

NAME = "score_snapshot_month_brin"


def create_brin(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON scoring_scoresnapshot USING brin (month)")


def drop_brin(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_customer_name_index"),
        ("scoring", "0008_no_tier_index"),
    ]

    operations = [
        migrations.RunPython(create_brin, drop_brin, elidable=False),
        migrations.RemoveIndex(model_name="scoresnapshot", name="score_snapshot_month"),
        migrations.AlterField(
            model_name="scoresnapshot",
            name="customer",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="score_snapshots",
                to="customers.customer",
            ),
        ),
        migrations.AlterField(
            model_name="scoresnapshot",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="scoring.scoringrun",
            ),
        ),
    ]
