"""Verifying signed webhooks: HMAC over the raw body, compared in constant time, within a time window."""

import base64
import hashlib
import hmac
import time


class SignatureError(ValueError):
    """A delivery whose signature does not prove it came from the sender; the message says what failed."""


def hmac_hex(secret: str, message: bytes, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), message, getattr(hashlib, digest)).hexdigest()


def hmac_base64(secret: str, message: bytes, digest: str = "sha256") -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, getattr(hashlib, digest)).digest()).decode()


def verify_timestamped_signature(
    *,
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    tolerance_seconds: int | None = 300,
    now: float | None = None,
) -> None:
    """Check ``signature == hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))`` and that the timestamp (Unix seconds)
    is within the tolerance (``None``: the caller checks it later, e.g. after recognising a repeated delivery).
    Signing the timestamp with the body means an old delivery cannot be replayed with a fresh time. Raises
    :class:`SignatureError`."""
    if not timestamp or not signature:
        raise SignatureError("The delivery is not signed: the timestamp and signature headers are required.")
    try:
        sent_at = int(timestamp)
    except ValueError as error:
        raise SignatureError("The timestamp header is not a Unix time in seconds.") from error
    current = time.time() if now is None else now
    if tolerance_seconds is not None and abs(current - sent_at) > tolerance_seconds:
        raise SignatureError(f"The delivery is stale: its timestamp is more than {tolerance_seconds} s away from now.")
    expected = hmac_hex(secret, timestamp.encode() + b"." + body)
    given = signature.removeprefix("sha256=").strip()
    if not hmac.compare_digest(expected, given):
        raise SignatureError("The signature does not match the body.")


def verify_signature(*, expected: str, given: str) -> None:
    """Constant-time comparison for provider formats that compute the expected value their own way."""
    if not given:
        raise SignatureError("The delivery is not signed.")
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise SignatureError("The signature does not match.")
