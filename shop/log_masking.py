"""No phone number or email address in a log: every record is masked as it is made.

Pages such as the operator's console and the customer search take a phone, an email or a name in their query
string, and access logs (gunicorn's, Django's development server's) and request logs write the whole address.
Rather than trust every caller of ``logging`` and every server's log format, the record factory masks each record's
final text: emails keep their first letter and domain (``a***@example.com``), phone-like digit runs keep their last
two digits (``***67``), and the values of search fields in a query string (``q``, ``phone``, ``email``, …, where a
name may be, and ``next``, which carries a whole address again, encoded once more) become ``***``. Installed once per process from ``ShopConfig.ready``, so the web workers, the Celery
worker and management commands all log masked, whatever handler or format they use.
"""

import logging
import re
from typing import Any

EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@|%40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# A run of 10 to 15 digits, allowing the separators people and URLs put between them (spaces, dashes, dots,
# brackets, a leading plus, and their percent-encoded forms), not glued to more digits or letters.
SEPARATOR = r"(?:[\s().-]|%20|%28|%29|%2B|\+)"
PHONE = re.compile(rf"(?<![\w%:.])(?:\+|%2B)?\d(?:{SEPARATOR}{{0,2}}\d){{9,14}}(?!\w)", re.IGNORECASE)
# Dates and times are digit runs too, and say nothing about a person.
DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")
SEARCH_FIELDS = re.compile(r"([?&](?:q|phone|number|email|search|name|caller|next)=)[^&\s\"']*", re.IGNORECASE)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    if DATE_LIKE.match(text):
        return text
    return "***" + re.sub(r"\D", "", text)[-2:]


def mask_personal_data(text: str) -> str:
    """``text`` with search-field values, email addresses and phone numbers masked."""
    text = SEARCH_FIELDS.sub(r"\1***", text)
    text = EMAIL.sub(r"\1***\2\3", text)
    return PHONE.sub(_phone, text)


class PersonalDataFilter(logging.Filter):
    """The same masking as a filter, for a handler configured outside Django (``LOGGING``, gunicorn's logconfig)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record)
        return True


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return  # a bad format string: logging reports it itself when the record is emitted
    masked = mask_personal_data(message)
    if masked != message:
        record.msg, record.args = masked, None


_installed = False


def install() -> None:
    """Mask every record this process makes (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _mask_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
