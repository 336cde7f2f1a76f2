"""The sign-in lockout as the owner sees it: which accounts are locked now (django-axes' records) and unlocking.

Axes locks the pair (username, client address): the address comes from ``shop.client_ip`` with the settings'
``TRUSTED_PROXY_COUNT``, and a wrong password during the lockout is not counted
(``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False``), so the cool-off ends on time whatever anyone tries.
"""

import logging
from collections.abc import Iterable

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from shop.models import User

log = logging.getLogger("retain.security")


def locked_usernames(usernames: Iterable[str]) -> set[str]:
    """The usernames locked now from at least one address: failures of one (username, address) pair within the
    cool-off add up to the limit (axes sums them over the user agents it keeps apart), in one grouped query."""
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.filter(username__in=list(usernames))
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    pairs = (
        attempts.values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    return {str(pair["username"]) for pair in pairs}


def user_unlock(*, user: User, acting_user: User) -> int:
    """Forget the failed sign-ins of ``user`` from every address, so the right password works at once. Idempotent;
    returns how many records were removed."""
    removed = reset(username=user.username)
    log.warning(
        "owner %s unlocked sign-in of user %s (%d lockout records)", acting_user.username, user.username, removed
    )
    return removed
