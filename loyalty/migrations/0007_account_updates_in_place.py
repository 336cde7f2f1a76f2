"""The accounts' balance index holds only accounts with credit, and every page keeps half its room free.

The nightly expiry moves up to every account at once, most of them to zero. With ``loyalty_account_balance`` on
``(balance, customer)`` over every account, each move wrote a new row version on another page (a lock record and
the row, the page often full) plus an entry in both indexes: four WAL records an account, a fifth of the expiry's
time. Now an emptied account leaves the partial index ``loyalty_account_credit`` (``balance > 0``) without a new
entry, and its new version stays on its page. The customer list's "balance from" filter (from 0.01) still
range-scans the index when few customers reach the sum. Dropping the index altogether would make the update HOT
(one WAL record), but a "balance from" that few reach then walks the list's order probing every account (about
4 s instead of 50 ms on a million, docs/benchmarks.md).

The new index is built concurrently before the old one goes, so no lookup goes without one. The fillfactor applies to
rows written from now on; the existing pages make room as their old versions are pruned (or at once with
``VACUUM FULL loyalty_loyaltyaccount``).
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("loyalty", "0006_names_may_be_empty_for_presets"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="loyaltyaccount",
            index=models.Index(
                condition=models.Q(("balance__gt", 0)), fields=["balance", "customer"], name="loyalty_account_credit"
            ),
        ),
        RemoveIndexConcurrently(model_name="loyaltyaccount", name="loyalty_account_balance"),
        migrations.RunSQL(
            "ALTER TABLE loyalty_loyaltyaccount SET (fillfactor = 50)",
            reverse_sql="ALTER TABLE loyalty_loyaltyaccount RESET (fillfactor)",
        ),
    ]
