"""Short signed addresses that name a row without showing any id a stranger could change: the one-click
unsubscribe of a marketing message (short enough for an SMS, unguessable), and the apps' tracked links."""

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

SALT = "messaging.unsubscribe"
SIGNATURE_LENGTH = 12


def _signature(value: str, salt: str) -> str:
    return salted_hmac(salt, value).hexdigest()[:SIGNATURE_LENGTH]


def id_token(pk: int, *, salt: str) -> str:
    """``pk`` in base 36 with its signature under ``salt`` (each use has its own salt)."""
    value = int_to_base36(pk)
    return f"{value}-{_signature(value, salt)}"


def id_token_read(token: str, *, salt: str) -> int | None:
    """The id of a token made by :func:`id_token` with the same salt, or None."""
    value, _dash, signature = token.partition("-")
    if not value or not constant_time_compare(signature, _signature(value, salt)):
        return None
    try:
        return base36_to_int(value)
    except ValueError:
        return None


def unsubscribe_token(message_id: int) -> str:
    return id_token(message_id, salt=SALT)


def unsubscribe_token_read(token: str) -> int | None:
    """The message id of a token, or None when it was not made here."""
    return id_token_read(token, salt=SALT)


def base_url() -> str:
    """The scheme and host every link in a message starts with (``PUBLIC_BASE_URL``, required in production)."""
    return str(settings.PUBLIC_BASE_URL).rstrip("/")


def unsubscribe_url(message_id: int) -> str:
    return base_url() + reverse("messaging:unsubscribe", args=[unsubscribe_token(message_id)])
