"""An index on the orders' last change (``updated_at``, which every write of an order stamps): the nightly analytics
refresh rereads the programme-effect figures of the customers whose orders changed since its last run, a day's
changes out of ten million orders, instead of every exposed customer's year. Built concurrently, outside a
transaction, so a live shop's order writes go on while it is built; written as SQL so that the model's Meta
(orders.models) stays the pipeline's, like the order number's index (0006)."""

from typing import Any

from django.db import migrations


def create_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS order_updated ON orders_order (updated_at)")


def drop_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS order_updated")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0007_ingestion_outbox_and_source_time")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
