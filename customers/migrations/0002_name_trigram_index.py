from django.db import migrations

from shop.db import postgres_only_sql


class Migration(migrations.Migration):
    """Search by any part of a name on a million customers: a trigram GIN index on UPPER(name), the expression
    Django's ``icontains`` compares. PostgreSQL only; the demo's SQLite scans its few thousand rows."""

    dependencies = [("customers", "0001_initial")]

    operations = [
        postgres_only_sql(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
            "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer USING gin (UPPER(name) gin_trgm_ops);",
            "DROP INDEX IF EXISTS customer_name_trgm;",
        )
    ]
