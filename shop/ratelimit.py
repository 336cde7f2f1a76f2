"""Rate limits counted in Redis: a fixed one-second window per key, one round trip per request.

The caller lookup of an integration token is limited (``IntegrationToken.lookup_rate_per_second``), so a leaked or
misused token cannot read the customer base at hundreds of numbers a second. INCR and EXPIRE run as one Lua script
(one command, one round trip; a pipeline of the two cost the lookup twice the client's CPU): the first request of a
second creates the counter, which disappears two seconds later.

Without ``REDIS_URL`` (the demo) the counters live in Django's cache, per process. If Redis does not answer, the
request is let through and the failure logged: a lookup must not fail because a counter is away, and every lookup
is still recorded in the audit log.
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache
from typing import TYPE_CHECKING, cast

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from shop.models import IntegrationToken

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript, Script
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 1


# The counter and its expiry in one command; the expiry is set by the request that creates the counter.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@lru_cache(maxsize=1)
def _counter(url: str) -> AsyncScript | Script:
    # Short timeouts: a Redis that hangs must cost a lookup milliseconds, not the telephony's whole patience.
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)
    # EVALSHA, and EVAL once should Redis not know the script (after a restart).
    return client.register_script(_COUNT_SCRIPT)


def _count(key: str, window: int) -> int:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        cache.add(key, 0, timeout=window * 2)
        return int(cache.incr(key))
    return int(cast("int", _counter(url)(keys=[key], args=[window * 2])))


def rate_limit_retry_after(name: str, limit: int, *, now: float | None = None, window: int = WINDOW_SECONDS) -> int:
    """Count one request against ``limit`` per ``window`` seconds for ``name``. Returns 0 when it is allowed, else
    the whole seconds to wait until the window turns (at least 1), the value of ``Retry-After``."""
    moment = time.time() if now is None else now
    slot = int(moment // window)
    # The database's name keeps two shops (or two test runs) sharing one Redis from counting each other's tokens.
    database = settings.DATABASES["default"].get("NAME", "")
    try:
        count = _count(f"ratelimit:{database}:{name}:{slot}", window)
    except (redis.RedisError, OSError) as error:
        logger.warning("rate limit for %s not counted, Redis failed: %s", name, error)
        return 0
    if count <= limit:
        return 0
    return max(1, math.ceil((slot + 1) * window - moment))


class TokenLookupThrottle(BaseThrottle):
    """DRF throttle of the caller lookup: each integration token at most its own lookups per second. Staff signed
    in with a session are limited by the card rule of the console instead (``shop.audit``)."""

    def __init__(self) -> None:
        self.retry_after = 0

    def allow_request(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if not isinstance(token, IntegrationToken):
            return True
        self.retry_after = rate_limit_retry_after(f"lookup:token:{token.pk}", token.lookup_rate_per_second)
        return self.retry_after == 0

    def wait(self) -> float | None:
        return float(self.retry_after) if self.retry_after else None
