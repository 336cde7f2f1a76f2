"""The visitor's address, as far as it can be believed."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address the outermost one received from.

    Each proxy appends the address it was connected from to X-Forwarded-For, so only the last N entries were written
    by our own proxies; anything left of them came from the client and may be forged. Without this, every visitor
    behind the proxy shares its address, and five wrong passwords for the owner lock the owner out for everybody.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        # Fewer hops than proxies configured: the request did not come through them, so nothing here is ours.
        return remote
    return forwarded[-count]
