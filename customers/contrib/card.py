"""What an app adds to the customer card: panels (``CardPanel``) and timeline entries (``TimelineSource``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from customers.models import Customer

# How much history the card shows at once: the newest entries of every kind, merged. A source reads at most this
# many of its own entries (one bounded query each).
TIMELINE_LENGTH = 100


@dataclass(frozen=True)
class CardPanel:
    """A panel of the card. ``read(customer, user)`` returns the panel's own context, rendered as ``data`` in
    ``template``; ``column`` is ``side`` (narrow, beside the timeline) or ``main`` (above it). Panels of one column
    show in ascending ``position``, whichever app they come from."""

    name: str
    template: str
    column: str
    position: int
    read: Callable[[Customer, Any], dict[str, Any]] = field(default=lambda customer, user: {})


@dataclass(frozen=True)
class TimelineEntry:
    """One event in the customer's history. ``template`` renders it with ``entry`` and ``object`` in context."""

    kind: str
    at: datetime
    template: str
    object: Any


@dataclass(frozen=True)
class TimelineSource:
    """``read(customer, limit)`` turns one kind of a customer's history into entries, at most ``limit`` of them.
    The card merges every source's entries newest first; ``position`` orders sources whose entries share a
    moment."""

    name: str
    position: int
    read: Callable[[Customer, int], Iterable[TimelineEntry]]
