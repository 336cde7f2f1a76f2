"""Input every request must pass before any view reads it: no NUL byte anywhere (PostgreSQL refuses one in a text
value, so it used to surface as a 500 from whatever query met it first) and JSON nested no deeper than a real
payload ever is (Python's parser recurses, so a few thousand brackets used to end in a RecursionError and a 500).

The middleware checks the path, the query string and form fields; JSON bodies are checked where they are parsed:
DRF's parser (:class:`CheckedJSONParser`) and the signed webhooks, through :func:`json_loads_checked`."""

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Orders with items with options are four levels deep; nothing Retain accepts needs more than a few more.
MAX_JSON_DEPTH = 32
NUL = "\x00"


class JsonInputError(ValueError):
    """A JSON body that is not acceptable; the message says why."""


def json_check(value: Any, *, max_depth: int = MAX_JSON_DEPTH, strings: bool = True) -> None:
    """Raise :class:`JsonInputError` when ``value`` nests deeper than ``max_depth`` or holds a NUL in any key or
    string (``strings=False``: the caller knows there is none, and only the nesting is walked). Walks with its own
    stack, so the check itself cannot overflow."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                raise JsonInputError("A text value contains a NUL byte (\\u0000), which is not accepted.")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise JsonInputError(f"The JSON is nested more than {max_depth} levels deep.")
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list) or strings)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def json_loads_checked(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that answers a bad, too deep or NUL-carrying body with :class:`JsonInputError`."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError as error:
        raise JsonInputError(f"The JSON is nested more than {max_depth} levels deep.") from error
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError both are
        raise JsonInputError(f"JSON parse error: {error}") from error
    json_check(value, max_depth=max_depth, strings=_may_hold_nul(data))
    return value


def _may_hold_nul(data: str | bytes) -> bool:
    """Whether a parsed string of ``data`` may hold a NUL. Strict JSON holds no raw control character, so in UTF-8
    (or text) a NUL can only arrive written as the escape; UTF-16 and UTF-32 bodies have NUL bytes and are walked.
    Without one, only the nesting needs walking: a thousand orders' strings cost more to visit than to parse."""
    if isinstance(data, str):
        return "\\u0000" in data or NUL in data
    return b"\\u0000" in data or b"\x00" in data


class CheckedJSONParser(JSONParser):
    """DRF's JSON parser with the depth and NUL limits: a 400 naming the problem instead of a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_loads_checked(stream.read().decode(encoding))
        except UnicodeDecodeError as error:
            raise ParseError(f"The body is not {encoding} text: {error}") from error
        except JsonInputError as error:
            raise ParseError(str(error)) from error


def _has_nul(request: HttpRequest) -> bool:
    if NUL in request.path or NUL in unquote_plus(request.META.get("QUERY_STRING", "")):
        return True
    if request.method != "POST":
        return False
    if request.content_type not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        return False
    # Read a small body whole first: parsing the form from the stream would leave a signed webhook (Zadarma posts a
    # form) unable to read the bytes its signature covers. A large upload is parsed from the stream (its files go
    # to disk), as Django would; the views that take one never read the raw body.
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) <= (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0):
        _cached = request.body  # kept on the request: the form below is parsed from it, and the view may read it
    # Uploaded files are the importer's to judge (it refuses binary files with its own message).
    return any(NUL in text for key, values in request.POST.lists() for text in (key, *values))


class RejectNulMiddleware:
    """Answers 400 to a NUL byte in the path, the query string or a form field, before any view sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = "The request contains a NUL byte (%00), which is not accepted."
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"code": "parse_error", "message": message, "fields": {}}}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
