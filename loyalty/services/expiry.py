"""The nightly expiry of store credit, set-based: per chunk of customers (a keyset over customer ids), one
transaction of three statements, whatever the number of lots.

1. The chunk's upper bound: the next ``batch`` due lots in customer order (the ``loyalty_entry_open_lots`` index,
   read from the last chunk's bound on, so the whole run reads that index once).
2. The locks, in one statement: for each customer with a due lot, ascending, ``FOR UPDATE`` on the account — what
   a spend, an accrual or a merge of the same customer takes after its customer rows, so none of them races an
   expiry. The expiry takes no customer lock: it holds nothing else while it waits, so it cannot close a cycle, and
   its rows no longer lock their customer at commit (migration 0009). It returns the locked customers.
3. One statement, for exactly those customers: it posts an expiry row per due lot (``balance_after`` running down
   from the account's balance, first to expire first), empties exactly those lots and moves the accounts.

Idempotent: an expired lot has nothing left, so a second run finds nothing. Exact under concurrency: every movement
of a customer's credit holds their account's lock, and statement 3 reads the lots and balances after statement 2
got the locks (a new snapshot), so two runs at once expire each lot once — the second waits, then finds it empty —
and a lot that fell due after the locks were taken (its account not locked) waits for the next run. The
``loyalty_entry_expires_once`` unique index stays as the last guard: a duplicate would fail the chunk, not post
twice. The balance cannot go below zero: it is the sum of every lot's ``remaining`` (spends, reversals and debits
draw lots down as they post), and both CHECK constraints still guard it.

Where the time goes (docs/benchmarks.md): each lot costs an inserted expiry row (three index entries), an emptied
lot (a new row version and two index entries: ``remaining`` is in the open-lot indexes' predicate, so the update
cannot be HOT), an account update, the account's lock, and at commit the four foreign-key checks of the new row's
empty keys (order, rule, redemption, staff member). Its customer and its lot are checked once per chunk (migration
0009's statement trigger, one join each, no row lock), where two foreign keys looked each up and locked it. The
insert is a plain one (no speculative insertion, which ``ON CONFLICT`` costs); an account emptied leaves the partial
balance index and its new version stays on its page (migration 0007). Chunks are independent (disjoint customers),
so ``workers`` connections can run them side by side.
"""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from loyalty.models import EntryKind, LedgerEntry, LoyaltyAccount, Purpose

EXPIRY_BATCH = 10_000

_TABLES = {
    "ledger": LedgerEntry._meta.db_table,
    "account": LoyaltyAccount._meta.db_table,
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
_LOCK = """
    SELECT a.customer_id FROM {account} AS a
    WHERE a.customer_id > %(after)s AND a.customer_id <= %(upto)s
      AND a.customer_id IN (
          SELECT customer_id FROM {ledger}
          WHERE remaining > 0 AND expires_at <= %(now)s AND customer_id > %(after)s AND customer_id <= %(upto)s
      )
    ORDER BY a.customer_id FOR UPDATE OF a
""".format(**_TABLES)  # noqa: S608
_EXPIRE = """
    WITH due AS (
        SELECT l.id, l.customer_id, l.remaining, l.expires_at,
               a.balance - sum(l.remaining) OVER (
                   PARTITION BY l.customer_id ORDER BY l.expires_at, l.id ROWS UNBOUNDED PRECEDING
               ) AS balance_after
        FROM {ledger} AS l JOIN {account} AS a ON a.customer_id = l.customer_id
        WHERE l.remaining > 0 AND l.expires_at <= %(now)s AND l.customer_id > %(after)s AND l.customer_id <= %(upto)s
          AND a.customer_id > %(after)s AND a.customer_id <= %(upto)s AND a.customer_id = ANY(%(locked)s)
    ), posted AS (
        INSERT INTO {ledger} (customer_id, kind, purpose, amount, balance_after, remaining, source_entry_id, reason,
                              created_at)
        SELECT customer_id, %(kind)s, %(purpose)s, -remaining, balance_after, 0, id, '', %(now)s
        FROM due ORDER BY customer_id, expires_at, id
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


def _chunk_expire(after: int, upto: int, moment: datetime) -> int:
    """One chunk, one transaction: the locks (statement 2), then the expiry (statement 3)."""
    params: dict[str, Any] = {"now": moment, "after": after, "upto": upto}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK, params)
        params.update(locked=[row[0] for row in cursor.fetchall()], kind=EntryKind.EXPIRY, purpose=Purpose.EXPIRED)
        cursor.execute(_EXPIRE, params)
        return int(cursor.fetchone()[0])


def _chunks(moment: datetime, batch: int) -> Iterator[tuple[int, int]]:
    """The chunks' ``(after, upto]`` customer ranges in ascending order, each bound read from the last one on."""
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_BOUND, {"now": moment, "after": after, "batch": batch})
            upto = cursor.fetchone()[0]
        if upto is None:
            return
        yield after, upto
        after = upto


def credit_expire_due(*, now: datetime | None = None, batch: int = EXPIRY_BATCH, workers: int = 1) -> int:
    """Post an expiry for every lot past its date with credit left; returns how many lots expired.

    Works through the customers in ascending id, ``batch`` due lots (and all of the last customer's) a
    transaction; see the module's text for the locks and why running it twice expires nothing more. With
    ``workers`` above one, that many connections expire chunks side by side (disjoint customers, so they never wait
    for each other); inside a caller's transaction it runs in that one, chunk after chunk."""
    moment = now or timezone.now()
    if workers <= 1 or connection.in_atomic_block:
        return sum(_chunk_expire(after, upto, moment) for after, upto in _chunks(moment, batch))
    pending = _chunks(moment, batch)
    lock = threading.Lock()

    def work() -> int:
        done = 0
        try:
            while True:
                with lock:
                    chunk = next(pending, None)
                if chunk is None:
                    return done
                done += _chunk_expire(*chunk, moment)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(lambda _n: work(), range(workers)))
