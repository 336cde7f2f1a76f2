"""The nightly expiry of store credit, set-based: per chunk of customers (a keyset over customer ids), one
transaction of four statements, whatever the number of lots.

1. The chunk's upper bound: the next ``batch`` due lots in customer order (the ``loyalty_entry_open_lots`` index,
   read from the last chunk's bound on, so the whole run reads that index once).
2. The locks (two statements), in the global order (``loyalty.services.ledger``): ``FOR KEY SHARE`` on the customers, then ``FOR
   UPDATE`` on their accounts, ascending ids — what a spend, an accrual or a merge of the same customer takes, so
   none of them races an expiry.
3. One statement that posts an expiry row per due lot (``balance_after`` running down from the account's balance,
   first to expire first), empties exactly the lots it posted for, and moves the accounts by what it posted.

Idempotent: an expired lot has nothing left, so a second run finds nothing; the expiry rows go in with
``ON CONFLICT DO NOTHING`` against the once-per-lot unique index, and a lot is emptied only when its row went in,
so even two runs at once expire each lot once and the balance stays the sum of the ledger. The balance cannot go
below zero: it is the sum of every lot's ``remaining`` (spends, reversals and debits draw lots down as they post),
and both CHECK constraints still guard it.
"""

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from loyalty.models import EntryKind, LedgerEntry, LoyaltyAccount, Purpose

EXPIRY_BATCH = 10_000

_TABLES = {
    "ledger": LedgerEntry._meta.db_table,
    "account": LoyaltyAccount._meta.db_table,
    "customer": Customer._meta.db_table,
}
# Table names come from the models (hence the S608 waivers); every value is a query parameter. Each statement
# repeats the chunk's id range on every table it reads, so each reads its primary key's range (never a whole table:
# a semi-join on the due customers alone was planned as a scan of all the customers and accounts per chunk).
_BOUND = """
    SELECT max(customer_id) FROM (
        SELECT customer_id FROM {ledger}
        WHERE remaining > 0 AND expires_at <= %(now)s AND customer_id > %(after)s
        ORDER BY customer_id LIMIT %(batch)s
    ) AS next_lots
""".format(**_TABLES)  # noqa: S608
_DUE_CUSTOMERS = """
    SELECT DISTINCT customer_id FROM {ledger}
    WHERE remaining > 0 AND expires_at <= %(now)s AND customer_id > %(after)s AND customer_id <= %(upto)s
""".format(**_TABLES)  # noqa: S608
_LOCK_CUSTOMERS = f"""
    SELECT id FROM {{customer}}
    WHERE id > %(after)s AND id <= %(upto)s AND id IN ({_DUE_CUSTOMERS}) ORDER BY id FOR KEY SHARE
""".format(**_TABLES)  # noqa: S608
_LOCK_ACCOUNTS = f"""
    SELECT customer_id FROM {{account}}
    WHERE customer_id > %(after)s AND customer_id <= %(upto)s AND customer_id IN ({_DUE_CUSTOMERS})
    ORDER BY customer_id FOR UPDATE
""".format(**_TABLES)  # noqa: S608
_EXPIRE = """
    WITH due AS (
        SELECT l.id, l.customer_id, l.remaining, l.expires_at,
               a.balance - sum(l.remaining) OVER (
                   PARTITION BY l.customer_id ORDER BY l.expires_at, l.id ROWS UNBOUNDED PRECEDING
               ) AS balance_after
        FROM {ledger} AS l JOIN {account} AS a ON a.customer_id = l.customer_id
        WHERE l.remaining > 0 AND l.expires_at <= %(now)s AND l.customer_id > %(after)s AND l.customer_id <= %(upto)s
          AND a.customer_id > %(after)s AND a.customer_id <= %(upto)s
    ), posted AS (
        INSERT INTO {ledger} (customer_id, kind, purpose, amount, balance_after, remaining, source_entry_id, reason,
                              created_at)
        SELECT customer_id, %(kind)s, %(purpose)s, -remaining, balance_after, 0, id, '', %(now)s
        FROM due ORDER BY customer_id, expires_at, id
        ON CONFLICT DO NOTHING
        RETURNING customer_id, amount, source_entry_id
    ), emptied AS (
        UPDATE {ledger} AS l SET remaining = 0 FROM posted WHERE l.id = posted.source_entry_id
    ), moved AS (
        UPDATE {account} AS a SET balance = a.balance + p.total, updated_at = %(now)s
        FROM (SELECT customer_id, sum(amount) AS total FROM posted GROUP BY customer_id) AS p
        WHERE a.customer_id = p.customer_id
    )
    SELECT count(*) FROM posted
""".format(**_TABLES)  # noqa: S608


def credit_expire_due(*, now: datetime | None = None, batch: int = EXPIRY_BATCH) -> int:
    """Post an expiry for every lot past its date with credit left; returns how many lots expired.

    Works through the customers in ascending id, ``batch`` due lots (and all of the last customer's) a
    transaction; see the module's text for the locks and why running it twice expires nothing more."""
    moment = now or timezone.now()
    expired, after = 0, 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            params: dict[str, Any] = {"now": moment, "after": after, "batch": batch}
            cursor.execute(_BOUND, params)
            upto = cursor.fetchone()[0]
            if upto is None:
                return expired
            params.update(upto=upto, kind=EntryKind.EXPIRY, purpose=Purpose.EXPIRED)
            cursor.execute(_LOCK_CUSTOMERS, params)
            cursor.execute(_LOCK_ACCOUNTS, params)
            cursor.execute(_EXPIRE, params)
            expired += cursor.fetchone()[0]
        after = upto
