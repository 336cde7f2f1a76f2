"""``Idempotency-Key`` for API writes: the same key with the same body replays the stored answer, with another body
→ 422, while the first request is still running → 409. Keys expire after a day (``idempotency_keys_expire``)."""

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from shop.models import IdempotencyKey, IntegrationToken

HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)


def _owner(request: Request) -> str:
    if isinstance(request.auth, IntegrationToken):
        return f"token:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _error(status: int, code: str, message: str) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": {}}}, status=status)


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an APIView method. Without the header the request runs as usual.

    The claim is an INSERT committed before the work starts, so a concurrent repeat finds it (409) instead of doing
    the work twice; a failure that raised leaves no claim behind, so the sender may retry with the same key.
    """

    @wraps(view)
    def wrapped(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view(self, request, *args, **kwargs)
        if len(key) > 255:
            return _error(400, "invalid_idempotency_key", "The Idempotency-Key header is longer than 255 characters.")
        owner = _owner(request)
        fingerprint = hashlib.sha256(
            (request.method or "").encode() + b" " + request.path.encode() + b"\n" + request.body
        ).hexdigest()
        try:
            with transaction.atomic():
                claim = IdempotencyKey.objects.create(owner=owner, key=key, fingerprint=fingerprint)
        except IntegrityError:
            stored = IdempotencyKey.objects.filter(owner=owner, key=key).first()
            if stored is None:  # expired and swept between the insert and this read: treat as new next time
                return _error(409, "idempotency_conflict", "The request with this Idempotency-Key is being retried.")
            if stored.fingerprint != fingerprint:
                return _error(
                    422, "idempotency_key_reused", "This Idempotency-Key was used with a different request body."
                )
            if stored.state == IdempotencyKey.State.IN_FLIGHT:
                return _error(409, "idempotency_in_flight", "A request with this Idempotency-Key is still running.")
            replay = Response(stored.response_body, status=stored.response_status)
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = view(self, request, *args, **kwargs)
        except BaseException:
            IdempotencyKey.objects.filter(pk=claim.pk).delete()
            raise
        if response.status_code >= 500:
            IdempotencyKey.objects.filter(pk=claim.pk).delete()
            return response
        IdempotencyKey.objects.filter(pk=claim.pk).update(
            state=IdempotencyKey.State.DONE, response_status=response.status_code, response_body=response.data
        )
        return response

    return wrapped


def idempotency_keys_expire(*, now: Any = None) -> int:
    """Forget keys older than a day; returns how many were removed."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
