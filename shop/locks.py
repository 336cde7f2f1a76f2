"""Named transaction-scoped locks, for work that must not interleave but has no row to lock yet (two webhooks
creating the same new customer, say)."""

import hashlib
from collections.abc import Iterable

from django.db import connection


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock``."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def advisory_xact_lock(names: Iterable[str]) -> None:
    """Take PostgreSQL advisory locks on ``names`` until the transaction ends, always in ascending key order so two
    transactions locking overlapping sets cannot deadlock. Must run inside ``transaction.atomic``."""
    keys = sorted({lock_key(name) for name in names})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS ordered",
            [keys],
        )
