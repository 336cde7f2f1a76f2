"""Small HTTP helpers every app's views share: where a form may send the browser back to, and the headers of the
public pages reached from a message (survey and unsubscribe links)."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.http import url_has_allowed_host_and_scheme

ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponseBase])


def same_site_path(request: HttpRequest, candidate: str | None, fallback: str) -> str:
    """``candidate`` when it is a path on this site, else ``fallback``: a ``next`` field is the visitor's to set,
    and ``//evil.example``, ``/\\evil.example`` or a full address would send them off the site after a form."""
    if not candidate:
        return fallback
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return fallback
    if not url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return fallback
    return candidate


def public_link_page(view: ViewT) -> ViewT:
    """A page opened from a link in a message, whose address is the whole authority (a signed token): browsers and
    proxies keep no copy of it (``no-store``), and it never leaks to another site as a Referer (``no-referrer``)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    return cast(ViewT, wrapped)
