"""An index for the customer list's search by a phone's last digits ("4567" finds +7 999 123-45-67).

A suffix is a prefix of the reversed number: ``reverse(number) LIKE '7654%'`` is a range scan of this btree (with
``text_pattern_ops``, so the database's collation does not matter), a handful of entries on a million phones,
where ``number LIKE '%4567'`` would read them all. Built concurrently, outside a transaction, so adding it to a
live table does not block the telephony webhook's lookups. Written as SQL: the index belongs to the search
(customers.search), whose lookup is an expression the model's Meta cannot name.
"""

from typing import Any

from django.db import migrations


def create_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS customer_phone_suffix "
        "ON customers_customerphone (reverse(number) text_pattern_ops)"
    )


def drop_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS customer_phone_suffix")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("customers", "0005_consent_wording_version")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
