"""An index for the customer list's search by order number ("#1001", orders.search).

The unique key is ``(source, external_id)``: its leading column is the source, which the person searching does not
know, so a lookup by number alone would read every order (ten million on a large shop). This index on the number
alone makes it a few index entries. Built concurrently, outside a transaction, so a live shop's order writes go on
while it is built; written as SQL so that the model's Meta (orders.models) stays the pipeline's, like scoring's
list indexes (scoring migration 0005).
"""

from typing import Any

from django.db import migrations


def create_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS order_number ON orders_order (external_id)")


def drop_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS order_number")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0005_import_job_heartbeat")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
