"""What an app moves when a duplicate customer is merged into its survivor (``MergeMover``), run by
``customers.merging.customer_merge`` inside the merge's one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from customers.models import Customer


@dataclass(frozen=True)
class MergeMover:
    """``move(survivor, duplicate)`` moves the app's rows of ``duplicate`` to ``survivor`` and returns counts of
    what moved, under names of its own (they land in ``CustomerMerge.moved``). It runs inside the merge's
    transaction with both customer rows locked, and must not queue work or talk to the outside: if any mover
    raises, the whole merge rolls back. Movers run in ascending ``position`` (a fixed order, so concurrent merges
    take their row locks in the same order); two movers may not share a position.

    ``lock(survivor_id, duplicate_id)``, when given, runs before the customer rows are locked: it takes the app's
    row locks that the global lock order puts before ``Customer`` rows (see docs/architecture.md)."""

    name: str
    position: int
    move: Callable[[Customer, Customer], dict[str, int]]
    lock: Callable[[int, int], None] | None = None
