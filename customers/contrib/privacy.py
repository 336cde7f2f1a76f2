"""What an app adds to a person's data requests: its part of the JSON export (``ExportPart``) and the erasure of
what it holds about them (``Eraser``). ``crm.privacy`` runs them: the download, and the erasure service that takes
the locks, runs every eraser and writes the audit line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from customers.models import Customer


@dataclass(frozen=True)
class ExportPart:
    """One key of the export file: ``read(customer)`` returns plain Python (Decimal, datetime) for it. Parts appear
    in ascending ``position``; two parts with one ``key`` are refused when the file is built."""

    key: str
    position: int
    read: Callable[[Customer], Any]


@dataclass(frozen=True)
class Erasure:
    """What an eraser works on: the customers being erased (the person's record and every duplicate merged into
    it) and the contacts they had when the erasure started, for rows that mention a number without a link."""

    customer_ids: list[int]
    phones: list[str]
    emails: list[str]
    now: datetime


@dataclass(frozen=True)
class Eraser:
    """``erase(erasure)`` blanks or deletes one app's personal data of ``erasure.customer_ids`` and returns counts
    of what it changed, under names of its own (an empty count means nothing was left to erase). It runs inside
    the erasure's transaction, after the erasure locked the identities and the customer rows, in ascending
    ``position``; every write must be conditional so that a second erasure changes nothing."""

    name: str
    position: int
    erase: Callable[[Erasure], dict[str, int]]
