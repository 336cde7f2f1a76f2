"""How long a staff session lives: it ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request and
``SESSION_ABSOLUTE_AGE`` seconds after signing in, however busy, so a screen left open at the shop's counter or a
stolen cookie does not stay signed in for a fortnight."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from shop.models import User

STARTED_KEY = "retain_signed_in_at"
SEEN_KEY = "retain_seen_at"
# The last-seen time is written at most this often: a session write per request would cost every page an UPDATE,
# and a minute is nothing against a 30-minute timeout.
SEEN_RESOLUTION_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="shop.session_lifetime.start")
def _session_start(sender: type[User], request: HttpRequest, user: User, **kwargs: object) -> None:
    now = int(time.time())
    request.session[STARTED_KEY] = now
    request.session[SEEN_KEY] = now


def session_expired_reason(request: HttpRequest, now: float) -> str | None:
    """Why the signed-in session must end now, in the reader's language, or None while it may go on.

    A session without a sign-in time predates these limits (it was opened for 14 days): it ends too."""
    started = request.session.get(STARTED_KEY)
    seen = request.session.get(SEEN_KEY, started)
    if started is None or now - started > settings.SESSION_ABSOLUTE_AGE:
        return _("You were signed out: a session lasts at most %(hours)s hours. Please sign in again.") % {
            "hours": f"{settings.SESSION_ABSOLUTE_AGE / 3600:g}"
        }
    if now - seen > settings.SESSION_IDLE_TIMEOUT:
        return _("You were signed out after %(minutes)s minutes without activity. Please sign in again.") % {
            "minutes": f"{settings.SESSION_IDLE_TIMEOUT / 60:g}"
        }
    return None


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            reason = session_expired_reason(request, now)
            if reason is not None:
                logout(request)
                messages.info(request, reason)
            elif now - request.session.get(SEEN_KEY, 0) >= SEEN_RESOLUTION_SECONDS:
                request.session[SEEN_KEY] = int(now)
        return self.get_response(request)
