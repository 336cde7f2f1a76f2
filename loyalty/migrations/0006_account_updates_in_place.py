"""The accounts are updated in place (HOT updates): no index holds ``balance`` and every page keeps half its room
free for the new row versions.

The nightly expiry moves up to every account at once; with ``loyalty_account_balance`` on ``(balance, customer)``
each move wrote a new row version elsewhere in the table plus an entry in both indexes (four WAL records an
account, a fifth of the expiry's time). Without it, and with room on the page, a move is one WAL record. The
fillfactor applies to rows written from now on; the table's existing pages make room as their old versions are
pruned (or at once with ``VACUUM FULL loyalty_loyaltyaccount``). The customer list's "balance from" filter joins
the accounts by their primary key instead of range-scanning the index.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0005_campaigns"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="loyaltyaccount", name="loyalty_account_balance"),
        migrations.RunSQL(
            "ALTER TABLE loyalty_loyaltyaccount SET (fillfactor = 50)",
            reverse_sql="ALTER TABLE loyalty_loyaltyaccount RESET (fillfactor)",
        ),
    ]
