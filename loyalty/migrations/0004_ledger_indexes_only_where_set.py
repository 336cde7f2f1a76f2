"""The ledger's foreign keys lose their own indexes: the customer and the order are served by
``loyalty_entry_customer`` and ``loyalty_entry_order``, and the rule, the redemption and the staff member get partial
indexes over the rows that name one. Every ledger row written (a million at a nightly expiry) updated fifteen indexes;
an expiry row now updates three.

The partial indexes are built concurrently, outside a transaction, before the full ones are dropped, so no lookup
goes without an index meanwhile.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0006_phone_suffix_index"),
        ("loyalty", "0003_coupon_open_index"),
        ("orders", "0006_order_number_search_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="ledgerentry",
            index=models.Index(condition=models.Q(("rule__isnull", False)), fields=["rule"], name="loyalty_entry_rule"),
        ),
        AddIndexConcurrently(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("redemption__isnull", False)),
                fields=["redemption"],
                name="loyalty_entry_redemption",
            ),
        ),
        AddIndexConcurrently(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("created_by__isnull", False)),
                fields=["created_by"],
                name="loyalty_entry_created_by",
            ),
        ),
        # Django's own AlterField would also drop the once-only partial unique indexes on the same columns
        # (review_once on the order, spent_once on the redemption): only the plain index of each key goes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="created_by",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="loyalty_entries",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="order",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="orders.order",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="redemption",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="loyalty.redemption",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="rule",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="loyalty.loyaltyrule",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "loyalty_ledgerentry_created_by_id_d4c22633"',
                    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "loyalty_ledgerentry_created_by_id_d4c22633" ON "loyalty_ledgerentry" ("created_by_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "loyalty_ledgerentry_customer_id_5237b9e7"',
                    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "loyalty_ledgerentry_customer_id_5237b9e7" ON "loyalty_ledgerentry" ("customer_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "loyalty_ledgerentry_order_id_95282e2b"',
                    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "loyalty_ledgerentry_order_id_95282e2b" ON "loyalty_ledgerentry" ("order_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "loyalty_ledgerentry_redemption_id_31d14ec9"',
                    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "loyalty_ledgerentry_redemption_id_31d14ec9" ON "loyalty_ledgerentry" ("redemption_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "loyalty_ledgerentry_rule_id_5976fa38"',
                    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "loyalty_ledgerentry_rule_id_5976fa38" ON "loyalty_ledgerentry" ("rule_id")',
                ),
            ],
        ),
    ]
