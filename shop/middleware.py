from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation

from shop.models import ShopSettings, User
from shop.twofactor import has_confirmed_device, second_factor_pending


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
