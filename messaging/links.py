"""The one-click unsubscribe address of a marketing message: short enough for an SMS, unguessable, and naming the
message (hence its customer and channel) without showing any id a stranger could change."""

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

SALT = "messaging.unsubscribe"
SIGNATURE_LENGTH = 12


def _signature(value: str) -> str:
    return salted_hmac(SALT, value).hexdigest()[:SIGNATURE_LENGTH]


def unsubscribe_token(message_id: int) -> str:
    value = int_to_base36(message_id)
    return f"{value}-{_signature(value)}"


def unsubscribe_token_read(token: str) -> int | None:
    """The message id of a token, or None when it was not made here."""
    value, _dash, signature = token.partition("-")
    if not value or not constant_time_compare(signature, _signature(value)):
        return None
    try:
        return base36_to_int(value)
    except ValueError:
        return None


def base_url() -> str:
    """The scheme and host every link in a message starts with (``PUBLIC_BASE_URL``, required in production)."""
    return str(settings.PUBLIC_BASE_URL).rstrip("/")


def unsubscribe_url(message_id: int) -> str:
    return base_url() + reverse("messaging:unsubscribe", args=[unsubscribe_token(message_id)])
