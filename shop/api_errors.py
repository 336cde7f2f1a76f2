"""Every API error as JSON: ``{"error": {"code", "message", "fields"}}`` with a sentence a developer can act on."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shop.api_batch import MAX_BATCH


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key == "non_field_errors" else f"{key}: {text}"
    return str(detail)


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "body_too_large"


def _too_large() -> BodyTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
    return BodyTooLarge(
        f"The request body is larger than {limit:.1f} MB, more than the server reads: send smaller batches "
        f"(at most {MAX_BATCH:,} rows each)."
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        exc = _too_large()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    detail = exc.detail
    fields = detail if isinstance(detail, dict) else {}
    code = exc.get_codes()
    if isinstance(code, dict | list):
        code = "invalid" if isinstance(exc, exceptions.ValidationError) else exc.default_code
    message = _first_message(detail)
    if isinstance(exc, exceptions.ValidationError):
        message = f"The request is invalid. {message}"
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response
