"""The WSGI handler gunicorn runs: an API call that carries an integration token goes through a shorter middleware
chain than a page.

Such a call is authenticated by its token alone (``shop.authentication``): sessions, CSRF, messages, the staff's
sign-in, its language, lifetime and second factor, the sign-in lockout and static files serve browsers, and each of
them still cost every call its share (about a tenth of the caller lookup's CPU). ``settings.TOKEN_API_MIDDLEWARE``
is ``MIDDLEWARE`` without them: the security headers, the NUL check, the language of the messages, Content-Length
stay. The URLs, the views, their authentication, permissions, limits and error answers are the same; whatever has
no token (a page, the console's calls with its session cookie, the signed telephony webhooks) takes the full chain.
"""

from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

from shop.authentication import IntegrationTokenAuthentication

API_PREFIX = "/api/v1/"


def carries_token(environ: dict[str, Any]) -> bool:
    """Whether a request is an API call that integration-token authentication decides: an ``Authorization`` header
    of its scheme (``Bearer``, ``Token``) on an API path. Session authentication is then never consulted."""
    if not str(environ.get("PATH_INFO", "")).startswith(API_PREFIX):
        return False
    scheme = str(environ.get("HTTP_AUTHORIZATION", "")).split(" ", 1)[0].lower()
    return scheme in IntegrationTokenAuthentication.keywords


class TokenApiHandler(WSGIHandler):
    """Django's WSGI handler with ``settings.TOKEN_API_MIDDLEWARE`` as its chain (synchronous middlewares only,
    as every one of ours is)."""

    _view_middleware: list[Any]
    _template_response_middleware: list[Any]
    _exception_middleware: list[Any]

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(settings.TOKEN_API_MIDDLEWARE):
            instance = import_string(path)(handler)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class RetainWSGIHandler(WSGIHandler):
    """Pages and session calls through ``MIDDLEWARE``; token API calls through :class:`TokenApiHandler`."""

    def __init__(self) -> None:
        super().__init__()
        self.token_api = TokenApiHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if carries_token(environ):
            return self.token_api(environ, start_response)
        return super().__call__(environ, start_response)
