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
