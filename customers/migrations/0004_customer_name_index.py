from django.db import migrations, models

from shop.db import postgres_only_sql


def create_on_sqlite(apps, schema_editor):
    # The demo's SQLite database gets the plain index; PostgreSQL builds it concurrently below.
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute('CREATE INDEX IF NOT EXISTS "customer_name" ON "customers_customer" ("name", "id")')


def drop_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "customer_name"')


class Migration(migrations.Migration):
    """Sorting the customer list by name pages through (name, id) on a keyset; without this index every page of a
    million customers is a sort of the whole table. Built concurrently so a live shop keeps writing meanwhile."""

    atomic = False
    dependencies = [("customers", "0003_calls")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="customer", index=models.Index(fields=["name", "id"], name="customer_name")
                )
            ],
            database_operations=[
                postgres_only_sql(
                    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_name" ON "customers_customer" ("name", "id")',
                    'DROP INDEX CONCURRENTLY IF EXISTS "customer_name"',
                ),
                migrations.RunPython(create_on_sqlite, drop_on_sqlite),
            ],
        )
    ]
