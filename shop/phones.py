"""Phone numbers: one normalisation for every way a number reaches us (forms, API, CSV, telephony)."""

import functools

import phonenumbers
from django.utils.translation import gettext as _


class PhoneError(ValueError):
    """A phone number that cannot be understood; the message says why, for a person to read."""


def normalize_phone(raw: str, region: str = "RU") -> str:
    """Return the number in E.164 (``+79991234567``) or raise :class:`PhoneError` saying what is wrong.

    Russian and Kazakh habits are understood: ``8 (999) 123-45-67`` is a national trunk prefix, and a bare
    ``79991234567`` from a PBX is the international form without its plus.
    """
    return _normalized((raw or "").strip(), region)


# A shop's platform sends the same customers' numbers again and again (every status update of an order carries its
# customer), and reading one costs ~50 µs of the phonenumbers library: a thousand-order batch spent more on its
# phones than on the rest of its validation. Only numbers that were read are kept; a refusal is worded anew each time
# (in the reader's language). Bounded, so a stream of new numbers costs at most a few megabytes.
@functools.lru_cache(maxsize=50_000)
def _normalized(text: str, region: str) -> str:
    if not text:
        raise PhoneError(_("The phone number is empty."))
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise PhoneError(_("“%(raw)s” contains no digits.") % {"raw": text})
    candidate = text
    if not text.startswith("+") and region in {"RU", "KZ"} and len(digits) == 11 and digits[0] == "7":
        candidate = "+" + digits
    try:
        parsed = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as error:
        raise PhoneError(_("“%(raw)s” is not a phone number: %(reason)s.") % {"raw": text, "reason": error}) from error
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneError(_("“%(raw)s” has the wrong number of digits for a phone number.") % {"raw": text})
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError(_("“%(raw)s” is not a valid phone number.") % {"raw": text})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A stored E.164 number as a person reads it: ``+7 999 123-45-67``."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164
