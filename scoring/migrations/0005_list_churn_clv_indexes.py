"""Indexes for the customer list's sorts by churn risk and by predicted CLV (customers.listing, scoring.listing).

The list pages by keyset on ``(value, customer)``: with an index on exactly that pair a page is an index range scan
of 51 entries, the first page or the thousandth; without it, PostgreSQL reads and sorts the whole score table for
every page (1.4 s on a million scores). Partial on ``IS NOT NULL`` because the list reads the customers without a
value (no fitted model, no score) as a separate stretch by customer id, and the nightly run's bulk upsert then
maintains only the rows that have a value. Importance needs none: ``score_importance`` already is
``(importance, customer)``.

Built concurrently, outside a transaction, so adding them to a live million-row table does not block the nightly
run's writes. Written as SQL, not ``AddIndex``: the model (scoring.models) stays the scoring engine's, and the
indexes belong to the list that reads them; ``makemigrations`` does not see them, by design.
"""

from typing import Any

from django.db import migrations

TABLE = "scoring_customerscore"
INDEXES = (("score_churn_list", "churn_risk"), ("score_clv_list", "predicted_clv"))


def create_indexes(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {TABLE} ({column}, customer_id) "
            f"WHERE {column} IS NOT NULL"
        )


def drop_indexes(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("scoring", "0004_previous_churn_snapshot_month"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
