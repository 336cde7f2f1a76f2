import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from shop.models import ShopSettings


class UserLanguageMiddleware:
    """Speak each staff member's chosen language, else the shop's default; anonymous visitors keep the
    browser's choice (LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user.language or ShopSettings.load().language
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def content_security_policy(nonce: str, **overrides: str) -> str:
    """The policy of every page: scripts and styles only from our own static files (the vendored Bootstrap and
    Chart.js included) or inline blocks carrying this response's nonce; no plugins, no framing, forms post only
    here. Style attributes stay allowed (progress bars and heat-map cells carry their figure in one), script
    attributes (``onclick``) do not. ``overrides`` replace a directive for one page (the API reference)."""
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": f"'self' 'nonce-{nonce}'",
        "style-src-attr": "'unsafe-inline'",
        # Bootstrap's stylesheet draws its arrows and close buttons as data: SVG images.
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
        **overrides,
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy; templates mark their inline ``<script>``/``<style>`` with
    ``nonce="{{ request.csp_nonce }}"``. A response that already has a policy (a page that needs another one)
    keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(nonce)
        return response
