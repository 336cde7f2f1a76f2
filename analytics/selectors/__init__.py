"""Reads of the analytics app: the report pages' figures from the monthly aggregates."""

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from analytics.models import Refresh

T = TypeVar("T")
# The aggregates change only when a refresh commits, and the key names the refresh: the time limit only bounds
# what an inputs change the key does not see (none today) could leave behind.
REFRESH_CACHE_SECONDS = 6 * 3600


def last_refresh() -> Refresh | None:
    return Refresh.objects.filter(state=Refresh.State.SUCCEEDED).first()


def cached_per_refresh(name: str, compute: Callable[[], T], *parts: object) -> T:
    """``compute()`` once per succeeded refresh and ``parts`` (the inputs besides the aggregates: the margin, the
    day, the spend's last change), from the cache afterwards: the channels and cohorts figures fold tens of
    thousands of aggregate rows in Python, and the owner's dashboard shows them on every sign-in."""
    refresh = Refresh.objects.filter(state=Refresh.State.SUCCEEDED).values_list("pk", flat=True).first()
    if refresh is None:
        return compute()
    # The parts (a margin, a date-time, a window) may hold spaces and any length: hashed, the key stays a
    # portable cache key (no CacheKeyWarning, under any backend's length limit).
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:32]
    key = f"analytics:{name}:{refresh}:{digest}"
    found: T | None = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, REFRESH_CACHE_SECONDS)
    return found
