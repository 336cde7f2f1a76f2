"""Normalising what identifies a customer: emails here, phones in shop.phones (shared with telephony)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


class EmailError(ValueError):
    """An email address that cannot be used; the message says why."""


def normalize_email(raw: str) -> str:
    """Lower-cased and stripped, so the same mailbox always matches the same customer."""
    address = (raw or "").strip().lower()
    if not address:
        raise EmailError(_("The email address is empty."))
    try:
        validate_email(address)
    except ValidationError as error:
        raise EmailError(_("“%(raw)s” is not a valid email address.") % {"raw": raw.strip()}) from error
    return address
