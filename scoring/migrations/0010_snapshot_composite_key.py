"""Snapshots keyed by (customer, month): the unique (customer, month) index becomes the primary key and the
surrogate id and its index go, so a month's first run maintains one B-tree on its million inserts instead of two
(3.1 s → 2.1 s here). Django cannot turn a table's key into a composite one in place, so the rows move to a new
table that then takes the old one's name; the BRIN index on month is made again on it.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "customer_id, month, run_id, importance, tier, segment, churn_risk, predicted_clv"
BRIN = "score_snapshot_month_brin"


def create_brin(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {BRIN} ON scoring_scoresnapshot USING brin (month)")


def drop_brin(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {BRIN}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_customer_name_index"),
        ("scoring", "0009_snapshot_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="MonthlyScore",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "customer", "month", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("month", models.DateField(help_text="first day of the month")),
                ("importance", models.PositiveSmallIntegerField()),
                (
                    "tier",
                    models.CharField(
                        choices=[("vip", "VIP"), ("high", "High"), ("medium", "Medium"), ("low", "Low")], max_length=10
                    ),
                ),
                (
                    "segment",
                    models.CharField(
                        choices=[
                            ("champions", "Champions"),
                            ("loyal", "Loyal"),
                            ("potential_loyalists", "Potential loyalists"),
                            ("new", "New"),
                            ("promising", "Promising"),
                            ("need_attention", "Need attention"),
                            ("about_to_sleep", "About to sleep"),
                            ("at_risk", "At risk"),
                            ("cant_lose", "Can't lose them"),
                            ("hibernating", "Hibernating"),
                            ("lost", "Lost"),
                        ],
                        max_length=20,
                    ),
                ),
                ("churn_risk", models.FloatField(null=True)),
                ("predicted_clv", models.DecimalField(decimal_places=2, max_digits=14, null=True)),
                (
                    "customer",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="customers.customer",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="scoring.scoringrun",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(
            f"INSERT INTO scoring_monthlyscore ({COLUMNS}) SELECT {COLUMNS} FROM scoring_scoresnapshot",
            f"INSERT INTO scoring_scoresnapshot ({COLUMNS}) SELECT {COLUMNS} FROM scoring_monthlyscore",
        ),
        migrations.DeleteModel(name="ScoreSnapshot"),
        migrations.RenameModel(old_name="MonthlyScore", new_name="ScoreSnapshot"),
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
        migrations.RunPython(create_brin, drop_brin, elidable=False),
    ]
