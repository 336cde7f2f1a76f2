import secrets
from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation

from shop.models import ShopSettings, User
from shop.twofactor import has_confirmed_device, second_factor_pending


class RequestLanguageMiddleware:
    """The language a request speaks ends with the request. LocaleMiddleware and :class:`UserLanguageMiddleware`
    activate it for the thread and leave it there; where that thread goes on to run other code — the test process,
    whose client runs requests in the test's own thread, and any task run eagerly — that code spoke the last
    visitor's language (a reason recorded as a sentence in English on a Russian page). Outermost of the language
    middleware, it puts back the language the thread had before."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with translation.override(translation.get_language()):
            return self.get_response(request)


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


# Where a signed-in user who still owes the second factor may go: the code, the enrolment, signing out, the language.
SECOND_FACTOR_OPEN_VIEWS = frozenset(
    {"second_factor_verify", "second_factor_setup", "logout", "login", "shop:language"}
)


class SecondFactorMiddleware:
    """Keep a signed-in user who must confirm sign-in with a code on the page that asks for it (or, with no
    authenticator yet, on the enrolment page) until the session is verified: the password alone opens nothing.

    After django-otp's OTPMiddleware, which tells whether the session is verified."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not second_factor_pending(request) or self._open(request):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": "Confirm your sign-in with a code first."}, status=403)
        assert isinstance(request.user, User)
        target = "second_factor_verify" if has_confirmed_device(request.user) else "second_factor_setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in SECOND_FACTOR_OPEN_VIEWS
