"""A ledger row's customer and ``source_entry`` (the lot an expiry, reversal or merge undoes) are checked once per
statement instead of once per row; the ledger and the credit accounts become append-only.

Both foreign keys checked each new row at commit with a look-up that also locked the row it found: at the nightly
expiry, two million look-ups, and a million lock records in the WAL on the lot versions the same statement had just
written (docs/benchmarks.md). What they guarded, and what guards it now:

- *A new row's customer exists.* An ``AFTER INSERT`` statement trigger reads the statement's new rows (a transition
  table) and refuses the statement, with the foreign key's error code, unless every row's customer has a credit
  account (every service posts under the account's lock, so it exists already). An account never goes away (no
  ``DELETE``, no change of its key: triggers below) and its own foreign key, unchanged, keeps its customer from
  being deleted; so the customer of every row stays, as the ledger's key kept it. Accounts that existing rows lack
  (none in production; a row written by hand) are created first, with the balance of their open lots.
- *A new row's source exists.* The same trigger refuses a row naming a ledger row that does not exist.
- *A source cannot go away.* The key refused to delete a lot while a row named it (``PROTECT``); now no ledger row
  can be deleted at all (a ``BEFORE DELETE`` statement trigger). Nothing deletes ledger rows: it is the audit trail;
  erasure blanks reasons and merges post new rows. ``TRUNCATE`` stays possible, as it was.
- *A reference cannot be re-pointed.* A row trigger refuses an ``UPDATE`` that changes a ledger row's ``id``,
  ``customer_id`` or ``source_entry_id`` (or an account's key); it is declared on those columns, so a statement that
  does not set them (the expiry's ``SET remaining = 0``) never reaches it.

Under concurrency this is as strong as the keys, at every isolation level: the insert's check sees committed rows
or its own, and a committed ledger row or account can never be deleted or re-pointed, so there is nothing to lock
(the keys' ``FOR KEY SHARE`` only protected the row found from a concurrent delete).

Safe on a large ledger: not one transaction. Creating the triggers and dropping the constraints each take the
tables' lock for an instant and read no row; the accounts' back-fill is one read of the ledger (an anti-join, some
seconds on 10 M rows) that blocks no writer. The reverse adds the keys back ``NOT VALID`` and then validates them,
which reads the table without blocking writers.
"""

import django.db.models.deletion
from django.db import migrations, models

LEDGER = "loyalty_ledgerentry"
ACCOUNT = "loyalty_loyaltyaccount"
CUSTOMER_KEY = "loyalty_ledgerentry_customer_id_5237b9e7_fk_customers"
SOURCE_KEY = "loyalty_ledgerentry_source_entry_id_c675a6f9_fk_loyalty_l"

FORWARD = f"""
CREATE FUNCTION loyalty_entry_references_exist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM posted AS p WHERE NOT EXISTS (SELECT 1 FROM {ACCOUNT} AS a WHERE a.customer_id = p.customer_id)
    ) THEN
        RAISE EXCEPTION 'a ledger entry names a customer without a credit account'
            USING ERRCODE = 'foreign_key_violation', TABLE = '{LEDGER}';
    END IF;
    IF EXISTS (
        SELECT 1 FROM posted AS p
        WHERE p.source_entry_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {LEDGER} AS l WHERE l.id = p.source_entry_id)
    ) THEN
        RAISE EXCEPTION 'a ledger entry names a source entry that does not exist'
            USING ERRCODE = 'foreign_key_violation', TABLE = '{LEDGER}';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER loyalty_entry_references_exist AFTER INSERT ON {LEDGER}
    REFERENCING NEW TABLE AS posted FOR EACH STATEMENT EXECUTE FUNCTION loyalty_entry_references_exist();

CREATE FUNCTION loyalty_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted nor re-pointed: post a new entry', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
END $$;
CREATE TRIGGER loyalty_entry_never_deleted BEFORE DELETE ON {LEDGER}
    FOR EACH STATEMENT EXECUTE FUNCTION loyalty_append_only();
CREATE TRIGGER loyalty_entry_never_repointed BEFORE UPDATE OF id, customer_id, source_entry_id ON {LEDGER}
    FOR EACH ROW WHEN (
        OLD.id <> NEW.id OR OLD.customer_id <> NEW.customer_id
        OR OLD.source_entry_id IS DISTINCT FROM NEW.source_entry_id
    ) EXECUTE FUNCTION loyalty_append_only();
CREATE TRIGGER loyalty_account_never_deleted BEFORE DELETE ON {ACCOUNT}
    FOR EACH STATEMENT EXECUTE FUNCTION loyalty_append_only();
CREATE TRIGGER loyalty_account_never_repointed BEFORE UPDATE OF customer_id ON {ACCOUNT}
    FOR EACH ROW WHEN (OLD.customer_id <> NEW.customer_id) EXECUTE FUNCTION loyalty_append_only();
"""

BACKWARD = f"""
DROP TRIGGER loyalty_account_never_repointed ON {ACCOUNT};
DROP TRIGGER loyalty_account_never_deleted ON {ACCOUNT};
DROP TRIGGER loyalty_entry_never_repointed ON {LEDGER};
DROP TRIGGER loyalty_entry_never_deleted ON {LEDGER};
DROP FUNCTION loyalty_append_only();
DROP TRIGGER loyalty_entry_references_exist ON {LEDGER};
DROP FUNCTION loyalty_entry_references_exist();
"""

# Rows written before the trigger whose customer has no account (not one in production: every service creates the
# account before it posts) get one, with the balance the ledger says they have left.
BACKFILL = f"""
INSERT INTO {ACCOUNT} (customer_id, balance, updated_at)
SELECT l.customer_id, sum(l.remaining), now() FROM {LEDGER} AS l
WHERE NOT EXISTS (SELECT 1 FROM {ACCOUNT} AS a WHERE a.customer_id = l.customer_id)
GROUP BY l.customer_id
ON CONFLICT (customer_id) DO NOTHING
"""


def _key_back(name: str, column: str, target: str) -> list[str]:
    return [
        f"ALTER TABLE {LEDGER} ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {target} (id) "
        "DEFERRABLE INITIALLY DEFERRED NOT VALID",
        f"ALTER TABLE {LEDGER} VALIDATE CONSTRAINT {name}",
    ]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0006_phone_suffix_index"),
        ("loyalty", "0008_campaign_stop_reason_code"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, reverse_sql=BACKWARD),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="customer",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="loyalty_entries",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="source_entry",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="undone_by",
                        to="loyalty.ledgerentry",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"ALTER TABLE {LEDGER} DROP CONSTRAINT {CUSTOMER_KEY}",
                    reverse_sql=_key_back(CUSTOMER_KEY, "customer_id", "customers_customer"),
                ),
                migrations.RunSQL(
                    f"ALTER TABLE {LEDGER} DROP CONSTRAINT {SOURCE_KEY}",
                    reverse_sql=_key_back(SOURCE_KEY, "source_entry_id", LEDGER),
                ),
            ],
        ),
    ]
