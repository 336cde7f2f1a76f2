"""The demo's outbox: the survey emails and SMS the development backends wrote to files, read back for the owner.

Emails come from Django's file backend (``EMAIL_URL=filemail://…``): one file per connection, each message
followed by a line of 79 dashes. SMS come from :class:`messaging.backends.FileSmsBackend`: one tab-separated line
each.
Only the newest files and lines are read, so a long-running demo's outbox stays a quick page.
"""

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from messaging.backends import sms_file_path

FILE_EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
SEPARATOR = b"\n" + b"-" * 79 + b"\n"
NEWEST_FILES = 50
NEWEST_MESSAGES = 100
SMS_TAIL_BYTES = 256 * 1024
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class OutboxMessage:
    channel: str
    to: str
    subject: str
    text: str
    sent_at: datetime | None
    # The survey's address on this server (path only, so it opens wherever the owner browses the demo).
    survey_path: str


def _survey_prefix() -> str:
    return reverse("feedback:survey", args=["-"]).removesuffix("-/")


def _survey_path(text: str) -> str:
    prefix = _survey_prefix()
    for url in _URL.findall(text):
        path = urlsplit(url).path
        if path.startswith(prefix) and not path.rstrip("/").endswith("/unsubscribe"):
            return path
    return ""


def email_folder() -> Path | None:
    """The folder the file email backend writes to, or None when email goes elsewhere (console, SMTP)."""
    if getattr(settings, "EMAIL_BACKEND", "") != FILE_EMAIL_BACKEND:
        return None
    folder = getattr(settings, "EMAIL_FILE_PATH", "")
    return Path(folder) if folder else None


def outbox_emails(folder: Path | None = None) -> list[OutboxMessage]:
    """The newest emails first (at most ``NEWEST_MESSAGES``)."""
    folder = folder or email_folder()
    if folder is None or not folder.is_dir():
        return []
    files = sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime, reverse=True)[:NEWEST_FILES]
    found = [_read_email(chunk) for path in files for chunk in path.read_bytes().split(SEPARATOR) if chunk.strip()]
    found.sort(key=lambda message: message.sent_at.timestamp() if message.sent_at else 0.0, reverse=True)
    return found[:NEWEST_MESSAGES]


def _read_email(raw: bytes) -> OutboxMessage:
    message = email.message_from_bytes(raw.lstrip(b"\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    if sent_at is not None and sent_at.tzinfo is None:
        # Django writes the date in UTC as "-0000", which RFC 2822 reads as "zone unknown": a naive datetime.
        sent_at = sent_at.replace(tzinfo=UTC)
    return OutboxMessage(
        channel="email",
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        text=text.strip(),
        sent_at=sent_at,
        survey_path=_survey_path(text),
    )


def outbox_sms(path: Path | None = None) -> list[OutboxMessage]:
    """The newest SMS first (at most ``NEWEST_MESSAGES``), from the end of the file backend's file."""
    path = path or sms_file_path()
    if not path.is_file():
        return []
    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - SMS_TAIL_BYTES))
        tail = file.read().decode("utf-8", errors="replace")
    lines = tail.splitlines()[1:] if size > SMS_TAIL_BYTES else tail.splitlines()
    found = []
    for line in reversed(lines):
        parts = line.split("\t", 2)
        if len(parts) == 3:
            found.append(
                OutboxMessage(
                    channel="sms",
                    to=parts[1],
                    subject="",
                    text=parts[2],
                    sent_at=None,
                    survey_path=_survey_path(parts[2]),
                )
            )
        if len(found) == NEWEST_MESSAGES:
            break
    return found
